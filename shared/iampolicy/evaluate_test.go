package iampolicy_test

import (
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

func mustParse(t testing.TB, doc string) *iampolicy.Document {
	t.Helper()
	d, err := iampolicy.Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%q): %v", doc, err)
	}
	return d
}

func set(t testing.TB, boundary string, identity ...string) *iampolicy.Set {
	t.Helper()
	var ps []iampolicy.Policy
	for i, doc := range identity {
		ps = append(ps, iampolicy.Policy{Name: "p" + string(rune('0'+i)), Document: mustParse(t, doc)})
	}
	var b *iampolicy.Policy
	if boundary != "" {
		b = &iampolicy.Policy{Name: "boundary", Document: mustParse(t, boundary)}
	}
	return iampolicy.NewSet(ps, b)
}

const (
	allowS3Bucket  = `{"Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::assets/*"}}`
	allowAll       = `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	denySecrets    = `{"Statement":{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*"}}`
	denySecretsIf  = `{"Statement":{"Effect":"Deny","Action":"secretsmanager:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`
	allowIfTag     = `{"Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"web"}}}}`
	passRoleToECS  = `{"Statement":{"Effect":"Allow","Action":["iam:PassRole","ecs:RunTask"],"Resource":"*","Condition":{"StringLike":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}}}`
	notActionIAM   = `{"Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}}`
	notResource    = `{"Statement":{"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}}`
	userVariable   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`
	literalStarVar = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::odd/${*}"}}`
	questionMark   = `{"Statement":{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:us-east-1:111122223333:log-group:app-?:*"}}`
	boundaryS3Only = `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
)

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		set      *iampolicy.Set
		action   string
		resource string
		want     iampolicy.Decision
	}{
		{"prefix-wildcard-match", set(t, "", allowS3Bucket), "s3:GetObject", "arn:aws:s3:::assets/img/a.png", iampolicy.Allowed},
		{"action-case-insensitive", set(t, "", allowS3Bucket), "S3:getobject", "arn:aws:s3:::assets/a", iampolicy.Allowed},
		{"resource-case-sensitive", set(t, "", allowS3Bucket), "s3:GetObject", "arn:aws:s3:::Assets/a", iampolicy.NotAllowed},
		{"wildcard-does-not-reach-put", set(t, "", allowS3Bucket), "s3:PutObject", "arn:aws:s3:::assets/a", iampolicy.NotAllowed},
		{"prefix-must-not-overmatch", set(t, "", allowS3Bucket), "s3:GetObject", "arn:aws:s3:::assets-backup/a", iampolicy.NotAllowed},
		{"implicit-deny", set(t, ""), "s3:GetObject", "*", iampolicy.NotAllowed},
		{"explicit-deny-wins", set(t, "", allowAll, denySecrets), "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:1:secret:x", iampolicy.NotAllowed},
		{"deny-leaves-others", set(t, "", allowAll, denySecrets), "s3:GetObject", "arn:aws:s3:::x/y", iampolicy.Allowed},
		{"conditional-deny-lowers", set(t, "", allowAll, denySecretsIf), "secretsmanager:GetSecretValue", "*", iampolicy.Conditional},
		{"conditional-allow", set(t, "", allowIfTag), "ec2:StopInstances", "arn:aws:ec2:us-east-1:1:instance/i-1", iampolicy.Conditional},
		{"passedtoservice-unknown-without-the-request", set(t, "", passRoleToECS), "iam:PassRole", "arn:aws:iam::1:role/x", iampolicy.Conditional},
		{"passedtoservice-absent-for-other-services", set(t, "", passRoleToECS), "ecs:RunTask", "*", iampolicy.NotAllowed},
		{"notaction-excludes", set(t, "", notActionIAM), "iam:PassRole", "*", iampolicy.NotAllowed},
		{"notaction-includes", set(t, "", notActionIAM), "ec2:RunInstances", "*", iampolicy.Allowed},
		{"notresource-excludes", set(t, "", notResource), "s3:GetObject", "arn:aws:s3:::secret/k", iampolicy.NotAllowed},
		{"notresource-includes", set(t, "", notResource), "s3:GetObject", "arn:aws:s3:::public/k", iampolicy.Allowed},
		{"policy-variable-is-conditional", set(t, "", userVariable), "s3:GetObject", "arn:aws:s3:::home/alice/f", iampolicy.Conditional},
		{"policy-variable-still-needs-prefix", set(t, "", userVariable), "s3:GetObject", "arn:aws:s3:::other/alice/f", iampolicy.NotAllowed},
		{"escaped-star-is-literal", set(t, "", literalStarVar), "s3:GetObject", "arn:aws:s3:::odd/*", iampolicy.Allowed},
		{"escaped-star-matches-nothing-else", set(t, "", literalStarVar), "s3:GetObject", "arn:aws:s3:::odd/x", iampolicy.NotAllowed},
		{"question-mark-one-char", set(t, "", questionMark), "logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:app-1:log-stream:s", iampolicy.Allowed},
		{"question-mark-not-two", set(t, "", questionMark), "logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:app-12:log-stream:s", iampolicy.NotAllowed},
		{"boundary-narrows", set(t, boundaryS3Only, allowAll), "ec2:RunInstances", "*", iampolicy.NotAllowed},
		{"boundary-keeps", set(t, boundaryS3Only, allowAll), "s3:PutObject", "arn:aws:s3:::b/k", iampolicy.Allowed},
		{"boundary-does-not-grant", set(t, allowAll, allowS3Bucket), "ec2:RunInstances", "*", iampolicy.NotAllowed},
		{"boundary-conditional-lowers", set(t, allowIfTag, allowAll), "ec2:StopInstances", "*", iampolicy.Conditional},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.set.Decide(tc.action, tc.resource); got != tc.want {
				t.Errorf("Decide(%q, %q) = %v, want %v", tc.action, tc.resource, got, tc.want)
			}
			r := tc.set.Evaluate(tc.action, tc.resource)
			if r.Decision != tc.want {
				t.Errorf("Evaluate(%q, %q) = %v, want %v", tc.action, tc.resource, r.Decision, tc.want)
			}
		})
	}
}

func TestEvaluateEvidence(t *testing.T) {
	t.Parallel()
	s := set(t, "", allowAll, denySecrets)
	r := s.Evaluate("secretsmanager:GetSecretValue", "*")
	if r.Decision != iampolicy.NotAllowed || len(r.Evidence) != 1 || r.Evidence[0].Effect != iampolicy.Deny || r.Evidence[0].Policy != "p1" {
		t.Fatalf("deny evidence = %+v", r)
	}
	r = s.Evaluate("s3:GetObject", "*")
	if r.Decision != iampolicy.Allowed || len(r.Evidence) != 1 || r.Evidence[0].Policy != "p0" || string(r.Evidence[0].Statement) == "" {
		t.Fatalf("allow evidence = %+v", r)
	}
	c := set(t, "", allowIfTag).Evaluate("ec2:StopInstances", "*")
	if len(c.Evidence) != 1 || !c.Evidence[0].Conditional {
		t.Fatalf("conditional evidence = %+v", c)
	}
}

func TestGrants(t *testing.T) {
	t.Parallel()
	find := func(gs []iampolicy.Grant, action string) (iampolicy.Grant, bool) {
		for _, g := range gs {
			if g.Action.String() == action {
				return g, true
			}
		}
		return iampolicy.Grant{}, false
	}
	t.Run("expands-service-wildcard", func(t *testing.T) {
		t.Parallel()
		gs := set(t, "", allowS3Bucket).Grants(nil)
		g, ok := find(gs, "s3:GetObject")
		if !ok || g.Decision != iampolicy.Allowed || g.OnAll || g.Resource != "arn:aws:s3:::assets/*" {
			t.Fatalf("s3:GetObject grant = %+v, %v", g, ok)
		}
		if _, ok := find(gs, "s3:PutObject"); ok {
			t.Error("s3:Get* granted s3:PutObject")
		}
		wild := 0
		for _, g := range gs {
			switch {
			case g.Action.Wildcard():
				wild++
				if g.Action.String() != "s3:Get*" || g.Action.Level != iampolicy.LevelUnknown {
					t.Errorf("wildcard grant %v", g.Action)
				}
			case g.Action.Service != "s3" || g.Action.Level == iampolicy.LevelUnknown:
				t.Errorf("unexpected grant %v", g.Action)
			}
		}
		if wild != 1 {
			t.Errorf("%d wildcard grants, want 1 (s3:Get* beyond the catalog)", wild)
		}
	})
	t.Run("notaction-and-deny-on-all", func(t *testing.T) {
		t.Parallel()
		gs := set(t, "", notActionIAM, denySecrets).Grants(nil)
		if _, ok := find(gs, "iam:PassRole"); ok {
			t.Error("NotAction iam:* still granted iam:PassRole")
		}
		if _, ok := find(gs, "secretsmanager:GetSecretValue"); ok {
			t.Error("Deny secretsmanager:* on * did not remove the grant")
		}
		if g, ok := find(gs, "ec2:RunInstances"); !ok || !g.OnAll {
			t.Errorf("ec2:RunInstances = %+v, %v", g, ok)
		}
	})
	t.Run("boundary-intersects", func(t *testing.T) {
		t.Parallel()
		gs := set(t, boundaryS3Only, allowAll).Grants(nil)
		if len(gs) == 0 {
			t.Fatal("no grants")
		}
		for _, g := range gs {
			if g.Action.Service != "s3" {
				t.Fatalf("boundary s3:* let %v through", g.Action)
			}
		}
		if g := gs[len(gs)-1]; !g.Action.Wildcard() || g.Action.String() != "s3:*" {
			t.Errorf("last grant %v, want the wildcard s3:* (identity * narrowed by the boundary)", g.Action)
		}
	})
	t.Run("filter-and-unknown-action", func(t *testing.T) {
		t.Parallel()
		s := set(t, "", `{"Statement":{"Effect":"Allow","Action":["madeup:DoThing","logs:PutLogEvents"],"Resource":"*"}}`)
		gs := s.Grants(func(a iampolicy.Action) bool { return a.Service != "logs" })
		if len(gs) != 1 || gs[0].Action.String() != "madeup:DoThing" || gs[0].Action.Level != iampolicy.LevelUnknown {
			t.Fatalf("grants = %+v", gs)
		}
	})
	t.Run("conditional-passrole", func(t *testing.T) {
		t.Parallel()
		gs := set(t, "", passRoleToECS).Grants(nil)
		if g, _ := find(gs, "iam:PassRole"); g.Decision != iampolicy.Conditional || !g.Evidence.Conditional {
			t.Errorf("iam:PassRole = %+v", g)
		}
		// iam:PassedToService is only in iam:PassRole requests.
		if g, ok := find(gs, "ecs:RunTask"); ok {
			t.Errorf("ecs:RunTask = %+v, want no grant", g)
		}
	})
}

func TestActionSet(t *testing.T) {
	t.Parallel()
	s := iampolicy.NewActionSet("ecs:RunTask", "ECS:submit*", "logs:?utLogEvents")
	for _, tc := range []struct {
		action string
		want   bool
	}{
		{"ecs:RunTask", true}, {"ecs:SubmitTaskStateChange", true}, {"logs:PutLogEvents", true},
		{"ecs:StartTask", false}, {"logs:CreateLogStream", false},
	} {
		a, ok := iampolicy.LookupAction(tc.action)
		if !ok {
			t.Fatalf("%s not in the catalog", tc.action)
		}
		if got := s.Contains(a); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.action, got, tc.want)
		}
	}
	if !s.Contains(iampolicy.Action{Service: "ecs", Name: "RunTask"}) {
		t.Error("an Action built by hand is not matched")
	}
}
