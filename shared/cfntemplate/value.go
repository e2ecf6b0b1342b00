package cfntemplate

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// A template value after parsing: string (every scalar, as written), nil
// (null), []any or map[string]any. The YAML short forms become the
// full-name maps of the JSON syntax, so that both resolve alike:
// !Ref x is {"Ref": "x"}, !GetAtt A.B is {"Fn::GetAtt": "A.B"}, !Sub s is
// {"Fn::Sub": s}.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html

// ErrSyntax is why a file is not a template: not JSON or YAML, or not of
// a template's shape.
var ErrSyntax = errors.New("not a CloudFormation template")

// document is a parsed template: its values and the position of each
// resource's logical ID.
type document struct {
	root      map[string]any
	positions map[string]Position // logical ID → where it is written
}

func parseDocument(b []byte) (*document, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if n.Kind != yaml.DocumentNode || len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: the file is not a JSON object or YAML mapping", ErrSyntax)
	}
	top := n.Content[0]
	v, err := toValue(top)
	if err != nil {
		return nil, err
	}
	d := &document{root: v.(map[string]any), positions: map[string]Position{}}
	resources := mapping(top, "Resources")
	if resources == nil {
		return nil, fmt.Errorf("%w: no Resources section (line %d col %d)", ErrSyntax, top.Line, top.Column)
	}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		k := resources.Content[i]
		d.positions[k.Value] = Position{LogicalID: k.Value, Line: k.Line, Column: k.Column}
	}
	return d, nil
}

// mapping returns the mapping node under key in m, or nil.
func mapping(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.MappingNode {
			return m.Content[i+1]
		}
	}
	return nil
}

func toValue(n *yaml.Node) (any, error) {
	v, err := plainValue(n)
	if err != nil {
		return nil, err
	}
	tag := n.Tag
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") {
		return v, nil
	}
	// A YAML short form: !Ref and !Condition keep their names, every
	// other !Name is Fn::Name.
	switch name := tag[1:]; name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	default:
		return map[string]any{"Fn::" + name: v}, nil
	}
}

func plainValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%w: line %d col %d: a key must be a string", ErrSyntax, k.Line, k.Column)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("%w: line %d col %d: duplicate key %q", ErrSyntax, k.Line, k.Column, k.Value)
			}
			v, err := toValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	case yaml.AliasNode:
		return toValue(n.Alias)
	}
	return nil, fmt.Errorf("%w: line %d col %d: unexpected YAML node", ErrSyntax, n.Line, n.Column)
}
