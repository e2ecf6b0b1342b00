package rules_test

import (
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Verdicts a user can switch enforce mode on: rewrites of an administrator
// policy that must not evade TD-008, broad grants that must count, AWS's
// own setups that must not trip the rules, and trust policies that let
// federated principals in.

const v = `"Version":"2012-10-17",`

func taskPolicy(p string) func(testing.TB, *rules.Facts) {
	return func(t testing.TB, f *rules.Facts) { addPolicy(t, f, taskARN, p) }
}

func TestAdministratorRewrites(t *testing.T) {
	t.Parallel()
	var cases []ruleCase
	for name, p := range map[string]string{
		"star":                `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
		"star-colon-star":     `{` + v + `"Statement":{"Effect":"Allow","Action":"*:*","Resource":"*"}}`,
		"question-star":       `{` + v + `"Statement":{"Effect":"Allow","Action":"?*","Resource":"*"}}`,
		"double-star":         `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"**"}}`,
		"star-question":       `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*?"}}`,
		"arn-star":            `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:*"}}`,
		"arn-aws-star":        `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":["arn:aws:*"]}}`,
		"notaction-nothing":   `{` + v + `"Statement":{"Effect":"Allow","NotAction":"madeup:Nothing","Resource":"*"}}`,
		"notresource":         `{` + v + `"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::nothing"}}`,
		"mfa-condition-false": `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}}`,
		"conditional-allow":   `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`,
	} {
		cases = append(cases, ruleCase{"td008-admin-" + name, taskPolicy(p), "TD-008", rules.Critical, taskARN, "every action on every resource"})
	}
	runRuleCases(t, cases)
}

func TestBroadGrants(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"td008-service-notresource", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::audit/*"}}`), "TD-008", rules.High, taskARN, "s3"},
		{"td008-s3-service-arns", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::*","arn:aws:s3:::*/*"]}}`), "TD-008", rules.High, taskARN, "s3"},
		{"td008-dynamodb-tables", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/*"}}`), "TD-008", rules.High, taskARN, "dynamodb"},
		{"td008-unknown-service", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"newsvc:*","Resource":"*"}}`), "TD-008", rules.High, taskARN, "newsvc"},
		{"td008-one-bucket-is-not-whole", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::web-assets","arn:aws:s3:::web-assets/*"]}}`), "TD-008", 0, "", ""},
		{"td008-ecs-exec-is-not-whole", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"}}`), "TD-008", 0, "", ""},
		{"td008-deny-unless-mfa-leaves-nothing", taskPolicy(`{` + v + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"iam:ListMFADevices","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`), "TD-008", 0, "", ""},
		{"td008-username-only-grants-nothing", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"admin"}}}}`), "TD-008", 0, "", ""},
		{"td003-newer-actions-of-a-wildcard", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Allow","Action":"logs:PutLogE*","Resource":"*"}}`)
		}, "TD-003", rules.Medium, execARN, "beyond the IAM action catalog"},
		{"td009-passrole-to-lambda-does-not-run-tasks", taskPolicy(`{` + v + `"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}},{"Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}]}`), "TD-009", 0, "", ""},
		{"td009-passrole-to-ecs-runs-tasks", taskPolicy(`{` + v + `"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-*","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},{"Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}]}`), "TD-009", rules.High, taskARN, "ecs:RunTask"},
		{"td009-getcalleridentity-is-nothing", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}}`), "TD-009", 0, "", ""},
	})
}

// TD-006 reads Denies as AWS does: one that holds for a task session is a
// lack; one that cannot be decided is a possible lack, marked conditional.
// An ARN IAM Access Analyzer calls invalid is read, conditionally, and the
// evidence says so: never a crash, never a silent grant.
func TestInvalidARNNoted(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"td008-wildcard-service-segment", taskPolicy(`{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:*:*:*:*"}}`), "TD-008", rules.Critical, taskARN, "invalid"},
		{"td003-upper-case-partition", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:AWS:s3:::uploads/*"}}`)
		}, "TD-003", rules.High, execARN, "invalid"},
		{"td004-upper-case-service", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:SecretsManager:us-east-1:111122223333:secret:*"}}`)
		}, "TD-004", rules.Medium, execARN, "invalid"},
	})
}

func TestExecutionRoleDenies(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"td006-deny-unless-mfa-is-a-lack", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Deny","NotAction":"iam:ListMFADevices","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`)
		}, "TD-006", rules.High, execARN, "not allowed: ecr:GetAuthorizationToken"},
		{"td006-undecidable-deny-possible-lack", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c"}}}}`)
		}, "TD-006", rules.High, execARN, "conditional"},
		{"td006-deny-for-users-only-is-no-lack", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"User"}}}}`)
		}, "TD-006", 0, "", ""},
		{"td006-conditional-allow-is-no-lack", func(t testing.TB, f *rules.Facts) {
			r := f.Roles[execARN]
			r.Policies = r.Policies[:1]
			addPolicy(t, f, execARN, `{`+v+`"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/app":"web"}}}}`)
		}, "TD-006", 0, "", ""},
	})
}

func TestTrustPrincipals(t *testing.T) {
	t.Parallel()
	trust := func(stmt string) func(testing.TB, *rules.Facts) {
		return func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{`+v+`"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}},`+stmt+`]}`)
		}
	}
	const github = `arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com`
	runRuleCases(t, []ruleCase{
		{"td010-github-any-token-critical", trust(`{"Effect":"Allow","Principal":{"Federated":"` + github + `"},"Action":"sts:AssumeRoleWithWebIdentity"}`), "TD-010", rules.Critical, taskARN, "federated principal"},
		{"td010-github-audience-only-critical", trust(`{"Effect":"Allow","Principal":{"Federated":"` + github + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}`), "TD-010", rules.Critical, taskARN, "no condition on token.actions.githubusercontent.com:sub"},
		{"td010-github-any-repo-critical", trust(`{"Effect":"Allow","Principal":{"Federated":"` + github + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}}`), "TD-010", rules.Critical, taskARN, "federated principal"},
		{"td010-github-one-repo-medium", trust(`{"Effect":"Allow","Principal":{"Federated":"` + github + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo-org/web:*"}}}`), "TD-010", rules.Medium, taskARN, "federated principal"},
		{"td010-saml-medium", trust(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}`), "TD-010", rules.Medium, taskARN, "saml-provider/Okta"},
		{"td010-web-identity-action-only", trust(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}`), "TD-010", rules.Critical, taskARN, "cognito-identity.amazonaws.com"},
		{"td010-account-medium", trust(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}`), "TD-010", rules.Medium, taskARN, "444455556666"},
		{"td010-star-critical", trust(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`), "TD-010", rules.Critical, taskARN, `"*"`},
	})
}

// A role that is both task and execution role is one role: its trust is
// still judged.
// A role ECS cannot assume (TD-012) can still be open to others: that is
// reported too.
func TestTrustWithoutECS(t *testing.T) {
	t.Parallel()
	const github = `arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com`
	only := func(t testing.TB, f *rules.Facts) {
		setTrust(t, f, taskARN, `{`+v+`"Statement":{"Effect":"Allow","Principal":{"Federated":"`+github+`"},"Action":"sts:AssumeRoleWithWebIdentity"}}`)
	}
	runRuleCases(t, []ruleCase{
		{"td012-no-ecs", only, "TD-012", rules.High, taskARN, ""},
		{"td010-still-critical", only, "TD-010", rules.Critical, taskARN, "federated principal"},
	})
}

func TestSharedRoleTrust(t *testing.T) {
	t.Parallel()
	share := func(trust string) func(testing.TB, *rules.Facts) {
		return func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.TaskRoleARN = execARN
			setTrust(t, f, execARN, trust)
		}
	}
	runRuleCases(t, []ruleCase{
		{"td001-still-fires", share(`{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`), "TD-001", rules.High, execARN, ""},
		{"td010-star-only", share(`{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`), "TD-010", rules.Critical, execARN, `"*"`},
		{"td012-not-for-star", share(`{` + v + `"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`), "TD-012", 0, "", ""},
		{"td010-star", share(`{` + v + `"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`), "TD-010", rules.Critical, execARN, `"*"`},
		{"td011-no-source", share(`{` + v + `"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}`), "TD-011", rules.Low, execARN, ""},
		{"td012-no-ecs", share(`{` + v + `"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`), "TD-012", rules.High, execARN, ""},
	})
}

func TestSecondaryTrustFederated(t *testing.T) {
	t.Parallel()
	r := role(t, roleARN+"ecsEventsRole", `{`+v+`"Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, eventsManaged)
	rep := rules.Evaluate(rules.Facts{Account: account, Region: region, Role: r})
	for _, f := range rep.Findings {
		if f.Rule == "SR-006" && f.Severity == rules.High {
			return
		}
	}
	t.Fatalf("no SR-006 for a web identity principal: %+v", rep.Findings)
}
