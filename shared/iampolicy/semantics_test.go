package iampolicy_test

import (
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// The evaluation semantics, one table per documented rule, each with the
// AWS page it comes from. Requests are those of an ECS task role session
// (iampolicy.RoleSession) unless a case says otherwise.

const (
	taskRole     = "arn:aws:iam::111122223333:role/app-task"
	docResource  = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
	docKeys      = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
	docOperators = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
	docMulti     = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html"
	docVariables = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html"
	docEval      = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
	docPassRole  = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService"
	docCaller    = "https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"
	docAction    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"
)

type semCase struct {
	name     string
	doc      string // the policy (Version 2012-10-17 added unless it has one or starts with "unversioned:")
	action   string
	resource string
	context  map[string][]string
	want     iampolicy.Decision
}

func sessionSet(t *testing.T, tags map[string]string, docs ...string) *iampolicy.Set {
	t.Helper()
	var ps []iampolicy.Policy
	for i, d := range docs {
		if rest, ok := strings.CutPrefix(d, "unversioned:"); ok {
			d = rest
		} else if !strings.Contains(d, `"Version"`) {
			d = `{"Version":"2012-10-17",` + strings.TrimPrefix(strings.TrimSpace(d), "{")
		}
		ps = append(ps, iampolicy.Policy{Name: "p" + string(rune('0'+i)), Document: mustParse(t, d)})
	}
	return iampolicy.NewSetIn(iampolicy.RoleSession(taskRole, tags), ps, nil)
}

func runSem(t *testing.T, source string, tags map[string]string, cases []semCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sessionSet(t, tags, tc.doc)
			r := s.EvaluateRequest(iampolicy.Request{Action: tc.action, Resource: tc.resource, Context: tc.context})
			if r.Decision != tc.want {
				t.Errorf("%s\n%s on %s = %v, want %v (%s)", tc.doc, tc.action, tc.resource, r.Decision, tc.want, source)
			}
			if tc.context == nil {
				if d := s.Decide(tc.action, tc.resource); d != r.Decision {
					t.Errorf("Decide = %v, Evaluate = %v", d, r.Decision)
				}
			}
		})
	}
}

func allow(action, resource string) string {
	return `{"Statement":{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}}`
}

func allowIf(cond string) string {
	return `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + cond + `}}`
}

// "You can use wildcard characters (* and ?) within the individual segments
// of an ARN (the parts separated by colons) ... If the * wildcard is the
// last character of a resource ARN segment, it can expand to match beyond
// the colon boundaries."
func TestSemanticsARNWildcards(t *testing.T) {
	t.Parallel()
	const user = "arn:aws:iam::555555555555:user/Bob"
	runSem(t, docResource, nil, []semCase{
		{"star-inside-segment-stays-in-it", allow("iam:GetUser", "arn:aws:iam*555*ob"), "iam:GetUser", user, nil, iampolicy.NotAllowed},
		{"question-mark-stays-in-segment", allow("iam:GetUser", "arn:aws:iam?:555555555555:user/Bob"), "iam:GetUser", user, nil, iampolicy.NotAllowed},
		{"star-ending-segment-crosses", allow("iam:GetUser", "arn:aws:iam:*:user/Bob"), "iam:GetUser", user, nil, iampolicy.Allowed},
		{"short-arn-star-ends-segment", allow("ssm:GetParameter", "arn:aws:ssm:*:parameter/prod/*"), "ssm:GetParameter", "arn:aws:ssm:us-east-1:111122223333:parameter/prod/db", nil, iampolicy.Allowed},
		{"star-in-resource-part-before-text", allow("s3:GetObject", "arn:aws:s3:::b/*.json"), "s3:GetObject", "arn:aws:s3:::b/a:b.json", nil, iampolicy.NotAllowed},
		{"star-in-resource-part-crosses-slash", allow("s3:GetObject", "arn:aws:s3:::b/*.json"), "s3:GetObject", "arn:aws:s3:::b/x/y.json", nil, iampolicy.Allowed},
		{"last-star-crosses-in-resource-part", allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/*"), "logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:x", nil, iampolicy.Allowed},
		{"star-before-colon-ends-segment", allow("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:/ecs/*:*"), "logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:x", nil, iampolicy.Allowed},
		{"star-alone-matches-all", allow("s3:GetObject", "*"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Allowed},
		{"stars-without-colon-match-all", allow("s3:GetObject", "*?"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Allowed},
		{"arn-star", allow("s3:GetObject", "arn:*"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Allowed},
		{"resource-case-sensitive", allow("iam:GetUser", "arn:aws:iam::555555555555:user/bob"), "iam:GetUser", user, nil, iampolicy.NotAllowed},
	})
}

// Denies written with in-segment wildcards hide no grant they do not match.
func TestSemanticsDenyWithSegmentWildcard(t *testing.T) {
	t.Parallel()
	s := sessionSet(t, nil, allow("iam:*", "*"), `{"Statement":{"Effect":"Deny","Action":"iam:*","Resource":"arn:aws:iam*555*ob"}}`)
	if d := s.Decide("iam:DeleteUser", "arn:aws:iam::555555555555:user/Bob"); d != iampolicy.Allowed {
		t.Errorf("Deny arn:aws:iam*555*ob removed a grant on a user: %v (%s)", d, docResource)
	}
}

// Conditions decided for the request context of a task role session.
func TestSemanticsSessionConditions(t *testing.T) {
	t.Parallel()
	runSem(t, docKeys+" "+docOperators+" "+docMulti, map[string]string{"team": "payments"}, []semCase{
		// aws:username: "requests that are made using ... IAM roles do not include this key".
		{"username-absent", allowIf(`{"StringEquals":{"aws:username":"bob"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"username-absent-negated-true", allowIf(`{"StringNotEquals":{"aws:username":"bob"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"username-absent-ifexists-true", allowIf(`{"StringEqualsIfExists":{"aws:username":"bob"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"username-null-true", allowIf(`{"Null":{"aws:username":"true"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"username-null-false", allowIf(`{"Null":{"aws:username":"false"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		// Temporary credentials carry aws:MultiFactorAuthPresent; ECS uses no MFA.
		{"mfa-true-required", allowIf(`{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"mfa-false", allowIf(`{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"mfa-age-absent", allowIf(`{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"principal-type", allowIf(`{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"principal-type-user", allowIf(`{"StringEquals":{"aws:PrincipalType":"User"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"principal-arn-like", allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app-*"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"principal-account", allowIf(`{"StringEquals":{"aws:PrincipalAccount":"999999999999"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"principal-tag-known", allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"principal-tag-absent", allowIf(`{"StringEquals":{"aws:PrincipalTag/env":"prod"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"source-ip-unknown", allowIf(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		{"secure-transport-present-unknown", allowIf(`{"Bool":{"aws:SecureTransport":"true"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		{"null-on-always-present-key", allowIf(`{"Null":{"aws:SecureTransport":"true"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"resource-tag-unknown", allowIf(`{"StringEquals":{"aws:ResourceTag/env":"prod"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		// On an absent key ForAllValues is true and ForAnyValue false.
		{"forallvalues-absent-key", allowIf(`{"ForAllValues:StringEquals":{"aws:username":["a"]}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"foranyvalue-absent-key", allowIf(`{"ForAnyValue:StringEquals":{"aws:username":["a"]}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"forallvalues-unknown-key", allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		{"null-unknown-key", allowIf(`{"Null":{"aws:ResourceTag/env":"true"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		// A service's own keys are not in requests to other services.
		{"other-service-key-absent", allowIf(`{"StringEquals":{"ec2:InstanceType":"t3.micro"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"own-service-key-unknown", allowIf(`{"StringEquals":{"s3:prefix":"home/"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		{"unknown-operator-undecided", allowIf(`{"StringSortOf":{"aws:username":"x"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		{"several-keys-and", allowIf(`{"StringEquals":{"aws:PrincipalType":"AssumedRole","aws:username":"bob"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"several-values-or", allowIf(`{"StringEquals":{"aws:PrincipalType":["User","AssumedRole"]}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"negated-several-values-nor", allowIf(`{"StringNotEquals":{"aws:PrincipalType":["User","AssumedRole"]}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
	})
}

// Policy variables: ${aws:username} has no value for a role; defaults apply
// when the key is absent; without Version 2012-10-17 variables are text.
func TestSemanticsPolicyVariables(t *testing.T) {
	t.Parallel()
	const home = "arn:aws:s3:::home/"
	runSem(t, docVariables, map[string]string{"team": "payments"}, []semCase{
		{"username-never-matches", allow("s3:GetObject", home+"${aws:username}/*"), "s3:GetObject", home + "bob/f", nil, iampolicy.NotAllowed},
		{"username-default", allow("s3:GetObject", home+"${aws:username, 'shared'}/*"), "s3:GetObject", home + "shared/f", nil, iampolicy.Allowed},
		{"username-default-only", allow("s3:GetObject", home+"${aws:username, 'shared'}/*"), "s3:GetObject", home + "bob/f", nil, iampolicy.NotAllowed},
		{"principal-tag-substituted", allow("s3:GetObject", home+"${aws:PrincipalTag/team}/*"), "s3:GetObject", home + "payments/f", nil, iampolicy.Allowed},
		{"principal-tag-other-value", allow("s3:GetObject", home+"${aws:PrincipalTag/team}/*"), "s3:GetObject", home + "billing/f", nil, iampolicy.NotAllowed},
		{"absent-tag-default", allow("s3:GetObject", home+"${aws:PrincipalTag/env, 'dev'}/*"), "s3:GetObject", home + "dev/f", nil, iampolicy.Allowed},
		{"principal-arn-substituted", allow("s3:GetObject", home+"${aws:PrincipalAccount}/*"), "s3:GetObject", home + "111122223333/f", nil, iampolicy.Allowed},
		{"unknown-value-conditional", allow("s3:GetObject", home+"${aws:userid}/*"), "s3:GetObject", home + "AROAX:task/f", nil, iampolicy.Conditional},
		{"no-version-literal", `unversioned:{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`, "s3:GetObject", home + "${aws:username}/f", nil, iampolicy.Allowed},
		{"no-version-no-substitution", `unversioned:{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:PrincipalTag/team}/*"}}`, "s3:GetObject", home + "payments/f", nil, iampolicy.NotAllowed},
		{"old-version-literal", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`, "s3:GetObject", home + "${aws:username}/f", nil, iampolicy.Allowed},
		{"condition-value-no-value", allowIf(`{"StringEquals":{"aws:PrincipalArn":"${aws:username}"}}`), "s3:GetObject", "*", nil, iampolicy.NotAllowed},
		{"condition-value-negated-no-value", allowIf(`{"StringNotEquals":{"aws:PrincipalArn":"${aws:username}"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"condition-value-substituted", allowIf(`{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`), "s3:GetObject", "*", nil, iampolicy.Allowed},
		{"condition-value-unknown", allowIf(`{"StringEquals":{"aws:PrincipalArn":"${aws:userid}"}}`), "s3:GetObject", "*", nil, iampolicy.Conditional},
		{"escape-star", allow("s3:GetObject", home+"${*}"), "s3:GetObject", home + "*", nil, iampolicy.Allowed},
		{"escape-star-is-not-wildcard", allow("s3:GetObject", home+"${*}"), "s3:GetObject", home + "x", nil, iampolicy.NotAllowed},
	})
}

// "An explicit deny in any of these policies overrides the allow"; a Deny
// whose Condition cannot be decided may override it: Conditional, never
// ignored. AWS's documented "deny unless MFA" guard denies a task role.
func TestSemanticsConditionalDeny(t *testing.T) {
	t.Parallel()
	const denyUnlessMFA = `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:ListMFADevices","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`
	runSem(t, docEval, nil, []semCase{
		{"deny-unless-mfa-denies-task", denyUnlessMFA, "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.NotAllowed},
		{"deny-unless-mfa-listed", denyUnlessMFA, "iam:ListMFADevices", "arn:aws:iam::111122223333:user/x", nil, iampolicy.Allowed},
		{"undecidable-deny-conditional", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Conditional},
		{"deny-not-holding-ignored", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"User"}}}]}`, "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Allowed},
		{"deny-holding", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:username":"true"}}}]}`, "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.NotAllowed},
	})
	s := sessionSet(t, nil, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	if r := s.Evaluate("s3:GetObject", "*"); !r.MayBeDenied() {
		t.Errorf("evidence of a conditional deny = %+v, want a conditional Deny", r.Evidence)
	}
	if r := sessionSet(t, nil, allowIf(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`)).Evaluate("s3:GetObject", "*"); r.MayBeDenied() {
		t.Errorf("a conditional Allow reads as a possible Deny: %+v", r.Evidence)
	}
}

// iam:PassedToService is evaluated with its operator and values.
func TestSemanticsPassedToService(t *testing.T) {
	t.Parallel()
	pass := func(op, value string) string {
		return `{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"` + op + `":{"iam:PassedToService":` + value + `}}}}`
	}
	to := func(svc string) map[string][]string { return map[string][]string{"iam:PassedToService": {svc}} }
	const role = "arn:aws:iam::111122223333:role/r"
	runSem(t, docPassRole, nil, []semCase{
		{"lambda-only-not-ecs", pass("StringEquals", `"lambda.amazonaws.com"`), "iam:PassRole", role, to("ecs-tasks.amazonaws.com"), iampolicy.NotAllowed},
		{"lambda-only-lambda", pass("StringEquals", `"lambda.amazonaws.com"`), "iam:PassRole", role, to("lambda.amazonaws.com"), iampolicy.Allowed},
		{"like-wildcard", pass("StringLike", `"ecs-*.amazonaws.com"`), "iam:PassRole", role, to("ecs-tasks.amazonaws.com"), iampolicy.Allowed},
		{"not-equals", pass("StringNotEquals", `"ecs-tasks.amazonaws.com"`), "iam:PassRole", role, to("ecs-tasks.amazonaws.com"), iampolicy.NotAllowed},
		{"list", pass("StringEquals", `["lambda.amazonaws.com","ecs-tasks.amazonaws.com"]`), "iam:PassRole", role, to("ecs-tasks.amazonaws.com"), iampolicy.Allowed},
		{"undecided-without-service", pass("StringEquals", `"ecs-tasks.amazonaws.com"`), "iam:PassRole", role, nil, iampolicy.Conditional},
	})
}

// "No permissions are required to perform this operation."
func TestSemanticsGetCallerIdentity(t *testing.T) {
	t.Parallel()
	runSem(t, docCaller, nil, []semCase{
		{"no-policy", allow("s3:GetObject", "arn:aws:s3:::b/*"), "sts:GetCallerIdentity", "*", nil, iampolicy.Allowed},
		{"explicit-deny", `{"Statement":{"Effect":"Deny","Action":"sts:*","Resource":"*"}}`, "sts:GetCallerIdentity", "*", nil, iampolicy.Allowed},
	})
	for _, g := range sessionSet(t, nil, allow("sts:*", "*")).Grants(nil) {
		if strings.EqualFold(g.Action.String(), "sts:GetCallerIdentity") {
			t.Errorf("sts:GetCallerIdentity listed as a grant: it needs none")
		}
	}
}

// Resource ARNs that IAM Access Analyzer calls invalid are read leniently,
// only conditionally, and say so in the evidence: never a crash, never a
// silent grant.
func TestSemanticsInvalidARN(t *testing.T) {
	t.Parallel()
	runSem(t, docResource, nil, []semCase{
		{"upper-case-partition", allow("s3:GetObject", "arn:AWS:s3:::b/*"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Conditional},
		{"upper-case-service", allow("s3:GetObject", "arn:aws:S3:::b/*"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Conditional},
		{"wildcard-service", allow("s3:GetObject", "arn:aws:*:::b/*"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.Conditional},
		{"upper-case-rest-is-case-sensitive", allow("s3:GetObject", "arn:AWS:s3:::B/*"), "s3:GetObject", "arn:aws:s3:::b/k", nil, iampolicy.NotAllowed},
	})
	r := sessionSet(t, nil, allow("s3:GetObject", "arn:aws:*:::b/*")).Evaluate("s3:GetObject", "arn:aws:s3:::b/k")
	if len(r.Evidence) != 1 || !strings.Contains(r.Evidence[0].Note, "invalid") {
		t.Errorf("evidence = %+v, want a note on the invalid ARN", r.Evidence)
	}
	gs := sessionSet(t, nil, allow("s3:*", "arn:AWS:*")).Grants(nil)
	if len(gs) == 0 || gs[0].Decision != iampolicy.Conditional || gs[0].Evidence.Note == "" {
		t.Errorf("grants through an invalid ARN: %+v", gs[:min(1, len(gs))])
	}
}

// Wildcards and NotAction match actions the catalog does not know: an
// unknown service, and actions newer than the catalog's data. "You can use
// a wildcard (*) to give access to all the actions the specific AWS product
// offers" (the Action element) covers actions added later too.
func TestSemanticsBeyondCatalog(t *testing.T) {
	t.Parallel()
	wild := func(s *iampolicy.Set) []string {
		var out []string
		for _, g := range s.Grants(nil) {
			if g.Action.Wildcard() {
				out = append(out, g.Action.String())
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		doc   string
		want  string
		whole string // a service WholeServices must list
		all   bool
	}{
		{"unknown-service", allow("newsvc:*", "*"), "newsvc:*", "newsvc", false},
		{"newer-actions", allow("s3:Get*", "*"), "s3:Get*", "", false},
		{"everything", allow("*", "*"), "*:*", "s3", true},
		{"notaction", `{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`, "*:*", "newsvc2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sessionSet(t, nil, tc.doc)
			got := wild(s)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("wildcard grants %v, want [%s] (%s)", got, tc.want, docAction)
			}
			services, all := iampolicy.WholeServices(s.Grants(nil))
			if all != tc.all {
				t.Errorf("all = %v, want %v", all, tc.all)
			}
			if tc.whole == "newsvc2" {
				return // a NotAction covers unknown services it cannot name
			}
			if tc.whole != "" && !strings.Contains(","+strings.Join(services, ",")+",", ","+tc.whole+",") {
				t.Errorf("whole services %v lack %s", services, tc.whole)
			}
			if tc.whole == "" && len(services) > 0 {
				t.Errorf("whole services %v, want none", services)
			}
		})
	}
	// The four ssmmessages actions ECS Exec documents name every action the
	// catalog has, but not the service: a later action would not be granted.
	ssm := sessionSet(t, nil, `{"Statement":{"Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"}}`)
	if services, _ := iampolicy.WholeServices(ssm.Grants(nil)); len(services) != 0 {
		t.Errorf("ECS Exec's literal actions count as the whole service %v", services)
	}
	// A Deny on the wildcard removes its wildcard grant.
	denied := sessionSet(t, nil, allow("newsvc:*", "*"), `{"Statement":{"Effect":"Deny","Action":"newsvc:*","Resource":"*"}}`)
	if got := wild(denied); len(got) != 0 {
		t.Errorf("denied wildcard still granted: %v", got)
	}
}

// Every resource, and every resource of a service.
func TestSemanticsEveryResource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc   string
		whole bool
	}{
		{allow("s3:*", "*"), true},
		{allow("s3:*", "**"), true},
		{allow("s3:*", "*?"), true},
		{allow("s3:*", "arn:*"), true},
		{allow("s3:*", "arn:aws:*"), true},
		{`{"Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}}`, true},
		{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::*","arn:aws:s3:::*/*"]}}`, true},
		{allow("s3:*", "arn:aws:s3:::*"), true},
		{allow("dynamodb:*", "arn:aws:dynamodb:*:*:table/*"), true},
		{allow("dynamodb:*", "arn:aws:dynamodb:*:111122223333:table/*"), true},
		{allow("s3:*", "arn:aws:s3:::logs/*"), false},
		{allow("s3:*", "arn:aws:s3:::*/*"), false},
		{allow("dynamodb:*", "arn:aws:dynamodb:us-east-1:111122223333:table/orders"), false},
		{allow("dynamodb:*", "arn:aws:dynamodb:*:999999999999:table/*"), false},
		{allow("dynamodb:*", "arn:aws:s3:::*"), false},
		{allow("dynamodb:*", "arn:aws:dynamodb:*:*:table/orders*"), false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			t.Parallel()
			services, _ := iampolicy.WholeServices(sessionSet(t, nil, tc.doc).Grants(nil))
			if got := len(services) == 1; got != tc.whole {
				t.Errorf("whole services %v, want whole = %v", services, tc.whole)
			}
		})
	}
}
