package iampolicy

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Principal is a statement's Principal or NotPrincipal: "*" (All) or an
// object of principal types, each a string or a list.
type Principal struct {
	All           bool
	AWS           Strings
	Service       Strings
	Federated     Strings
	CanonicalUser Strings
}

func parsePrincipal(v json.RawMessage) (*Principal, error) {
	v = bytes.TrimSpace(v)
	var star string
	if len(v) > 0 && v[0] == '"' {
		if json.Unmarshal(v, &star) != nil || star != "*" {
			return nil, ErrPrincipal
		}
		return &Principal{All: true}, nil
	}
	var m map[string]Strings
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, ErrPrincipal
	}
	p := &Principal{}
	for k, vals := range m {
		switch k {
		case "AWS":
			p.AWS = vals
		case "Service":
			p.Service = vals
		case "Federated":
			p.Federated = vals
		case "CanonicalUser":
			p.CanonicalUser = vals
		default:
			return nil, ErrPrincipal
		}
	}
	return p, nil
}

// Everyone reports whether the principal admits anyone: "*" or {"AWS":"*"}.
func (p *Principal) Everyone() bool {
	return p != nil && (p.All || slices.Contains(p.AWS, "*"))
}

// HasService reports whether the principal names the AWS service principal
// svc, such as "ecs-tasks.amazonaws.com".
func (p *Principal) HasService(svc string) bool {
	return p != nil && slices.Contains(p.Service, svc)
}
