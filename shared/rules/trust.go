package rules

import (
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// Trust policies: who may assume a role. A principal may assume a role
// with sts:AssumeRole, or with a web identity token
// (sts:AssumeRoleWithWebIdentity) or a SAML assertion
// (sts:AssumeRoleWithSAML) through a Federated principal
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-federated-web-identity).
var assumeActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"}

// admission is a principal a trust policy lets assume the role.
type admission struct {
	who string
	// critical: anyone can become this principal: "*" or a NotPrincipal
	// without conditions, or any token of a public identity provider
	// with no condition on who the token names.
	critical bool
	st       iampolicy.Statement
}

func (a admission) evidence() Evidence {
	return Evidence{Detail: "trust admits " + a.who + conditionNote(a.st), Statement: a.st.Raw}
}

// admissions lists the principals the trust lets assume the role, by any of
// the assume actions, other than the allowed service principals.
func admissions(trust *iampolicy.Document, allowed ...string) []admission {
	if trust == nil {
		return nil
	}
	var out []admission
	for _, st := range trust.Statements {
		if st.Effect != iampolicy.Allow || !assumesAny(st) {
			continue
		}
		if st.NotPrincipal != nil {
			out = append(out, admission{who: "every principal NotPrincipal does not name", critical: len(st.Condition) == 0, st: st})
			continue
		}
		p := st.Principal
		if p.Everyone() {
			out = append(out, admission{who: `"*"`, critical: len(st.Condition) == 0, st: st})
			continue
		}
		for _, s := range p.Service {
			if !slices.Contains(allowed, s) {
				out = append(out, admission{who: "service " + s, st: st})
			}
		}
		for _, a := range p.AWS {
			out = append(out, admission{who: "AWS principal " + a, st: st})
		}
		for _, f := range p.Federated {
			a := admission{who: "federated principal " + f, st: st}
			if host, ok := publicProvider(f); ok && !namesIdentity(st, host) {
				a.critical = true
				a.who += " (any token of this public identity provider: no condition on " + host + ":sub)"
			}
			out = append(out, a)
		}
		for _, c := range p.CanonicalUser {
			out = append(out, admission{who: "canonical user " + c, st: st})
		}
	}
	return out
}

// publicProviders issue tokens to anyone who signs up or runs a workflow:
// the web identity providers of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc.html
// and the CI services whose issuer is shared by every customer. A role that
// trusts one without a condition on the token's subject trusts everyone
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub
// asks for a condition on token.actions.githubusercontent.com:sub).
var publicProviders = map[string]bool{
	"token.actions.githubusercontent.com": true,
	"gitlab.com":                          true,
	"app.terraform.io":                    true,
	"accounts.google.com":                 true,
	"graph.facebook.com":                  true,
	"www.amazon.com":                      true,
	"cognito-identity.amazonaws.com":      true,
}

// publicProvider returns the provider's host when the Federated principal
// (a host, or an oidc-provider ARN) is a public one.
func publicProvider(federated string) (string, bool) {
	host := federated
	if _, rest, ok := strings.Cut(federated, ":oidc-provider/"); ok {
		host = rest
	}
	host = strings.ToLower(host)
	return host, publicProviders[host]
}

// namesIdentity reports whether the statement's Condition limits the
// provider's tokens to some subject: a test of <host>:sub, or, for a
// provider whose audience is the customer's own application (not GitHub's
// fixed sts.amazonaws.com, nor GitLab's or Terraform's caller-chosen one),
// of <host>:aud or <host>:app_id. A value that is only wildcards limits
// nothing.
func namesIdentity(st iampolicy.Statement, host string) bool {
	keys := []string{host + ":sub"}
	switch host {
	case "token.actions.githubusercontent.com", "gitlab.com", "app.terraform.io":
	default:
		keys = append(keys, host+":aud", host+":app_id")
	}
	for _, k := range keys {
		_, values := st.Condition.Values(k)
		for _, v := range values {
			if strings.Trim(strings.TrimPrefix(v, "repo:"), "*") != "" {
				return true
			}
		}
	}
	return false
}

func conditionNote(st iampolicy.Statement) string {
	if len(st.Condition) > 0 {
		return " (with conditions)"
	}
	return " without conditions"
}

// assumesAny reports whether a trust statement allows one of the assume
// actions, its conditions aside.
func assumesAny(st iampolicy.Statement) bool {
	set := iampolicy.NewSet([]iampolicy.Policy{{Document: &iampolicy.Document{Version: "2012-10-17", Statements: []iampolicy.Statement{withoutCondition(st)}}}}, nil)
	for _, a := range assumeActions {
		if set.Decide(a, "*") != iampolicy.NotAllowed {
			return true
		}
	}
	return false
}

// TD-010, TD-011, TD-012 on every distinct role of the task definition:
// a role that is both task and execution role is judged once, never
// skipped.
func (c *tdCheck) trustPolicies() []Finding {
	var out []Finding
	var seen []*Role
	for _, r := range []*Role{c.task, c.exec} {
		if r == nil || r.Trust == nil || slices.ContainsFunc(seen, func(s *Role) bool { return strings.EqualFold(s.ARN, r.ARN) }) {
			continue
		}
		seen = append(seen, r)
		out = append(out, judgeTaskTrust(r)...)
	}
	return out
}

func judgeTaskTrust(r *Role) []Finding {
	// "*" (and a NotPrincipal that does not name it) admits ECS too: the
	// task starts, and TD-010 says who else gets in.
	var ecs []iampolicy.Statement
	for _, st := range r.Trust.Statements {
		if st.Effect != iampolicy.Allow || !assumes(st) {
			continue
		}
		if st.Principal.HasService(principalECSTasks) || st.Principal.Everyone() || (st.NotPrincipal != nil && !st.NotPrincipal.HasService(principalECSTasks)) {
			ecs = append(ecs, st)
		}
	}
	var out []Finding
	if len(ecs) == 0 {
		out = append(out, newFinding("TD-012", High, r.ARN, Evidence{Detail: "no Allow statement lets ecs-tasks.amazonaws.com assume the role"}))
	}
	// Who else gets in matters even when ECS does not: a role any GitHub
	// token can assume is CRITICAL whether or not its task can start.
	if others := admissions(r.Trust, principalECSTasks); len(others) > 0 {
		s := Medium
		var ev []Evidence
		for _, a := range others {
			if a.critical {
				s = Critical
			}
			ev = append(ev, a.evidence())
		}
		out = append(out, newFinding("TD-010", s, r.ARN, ev...))
	}
	for _, st := range ecs {
		if !sourceConstrained(st) {
			out = append(out, newFinding("TD-011", Low, r.ARN, Evidence{
				Detail: "the ecs-tasks.amazonaws.com statement has no aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition", Statement: st.Raw,
			}))
			break
		}
	}
	return out
}

// sourceConstrained: one of the confused-deputy keys is enough.
func sourceConstrained(st iampolicy.Statement) bool {
	for _, k := range st.Condition.Keys() {
		switch k {
		case "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid":
			return true
		}
	}
	return false
}

// SR-006: a secondary role trusts a principal other than its services.
func secondaryTrust(r *Role, classes []Class) []Finding {
	var allowed []string
	for _, c := range classes {
		allowed = append(allowed, servicePrincipals[c]...)
	}
	var ev []Evidence
	for _, a := range admissions(r.Trust, allowed...) {
		ev = append(ev, a.evidence())
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{newFinding("SR-006", High, r.ARN, ev...)}
}
