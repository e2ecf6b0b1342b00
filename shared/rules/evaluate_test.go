package rules_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	account  = "111122223333"
	region   = "us-east-1"
	taskARN  = "arn:aws:iam::111122223333:role/web-task"
	execARN  = "arn:aws:iam::111122223333:role/web-exec"
	tdARN    = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:7"
	secretDB = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web/db-AbCdEf"
	image    = "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"

	trustECS = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`
	// The task role policy of a web app reading its own assets.
	s3TaskPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadAssets","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::web-assets","arn:aws:s3:::web-assets/*"]}]}`
	// AmazonECSTaskExecutionRolePolicy, version 1.
	execManaged = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
	// The execution role's own secret, by name prefix.
	execSecrets = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web/*"}]}`

	policyTaskExecution = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
)

func parse(t testing.TB, doc string) *iampolicy.Document {
	t.Helper()
	d, err := iampolicy.Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%q): %v", doc, err)
	}
	return d
}

// role builds a role; policies are inline documents unless given as
// "arn|document" for an attached managed policy.
func role(t testing.TB, arn, trust string, policies ...string) *rules.Role {
	t.Helper()
	r := &rules.Role{ARN: arn, Name: arn[strings.LastIndex(arn, "/")+1:], Path: "/", Trust: parse(t, trust), Tags: map[string]string{}}
	for i, p := range policies {
		if name, doc, ok := strings.Cut(p, "|"); ok {
			r.Policies = append(r.Policies, iampolicy.Policy{Name: name, Document: parse(t, doc)})
			r.Attached = append(r.Attached, name)
			continue
		}
		r.Policies = append(r.Policies, iampolicy.Policy{Name: fmt.Sprintf("inline:p%d", i), Document: parse(t, p)})
	}
	return r
}

// baseline is a compliant Fargate web service: private ECR image, awslogs,
// one secret, separate task and execution roles.
func baseline(t testing.TB) rules.Facts {
	t.Helper()
	td := &rules.TaskDefinition{
		ARN: tdARN, Family: "web", Revision: 7,
		TaskRoleARN: taskARN, ExecutionRoleARN: execARN,
		NetworkMode: "awsvpc", RequiresCompatibilities: []string{"FARGATE"},
		Containers: []rules.Container{{
			Name: "web", Image: image,
			Environment: []rules.KeyValue{{Name: "LOG_LEVEL", Value: "info"}, {Name: "DB_PASSWORD_SECRET_ARN", Value: secretDB}},
			Secrets:     []rules.Secret{{Name: "DB_PASSWORD", ValueFrom: secretDB}},
			LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{
				"awslogs-group": "/ecs/web", "awslogs-region": region, "awslogs-stream-prefix": "web",
			}},
		}},
		Tags: map[string]string{},
	}
	return rules.Facts{
		Account: account, Region: region, TaskDefinition: td,
		Roles: map[string]*rules.Role{
			taskARN: role(t, taskARN, trustECS, s3TaskPolicy),
			execARN: role(t, execARN, trustECS, policyTaskExecution+"|"+execManaged, execSecrets),
		},
	}
}

func TestBaselineIsClean(t *testing.T) {
	t.Parallel()
	r := rules.Evaluate(baseline(t))
	if len(r.Findings) != 0 || !r.Complete {
		b, _ := json.MarshalIndent(r, "", "  ")
		t.Fatalf("baseline has findings or is incomplete:\n%s", b)
	}
	if r.SchemaVersion != "1" || r.Subject.Type != "taskDefinition" || r.Subject.ARN != tdARN || r.Action.Type != rules.ActionNone {
		t.Errorf("report header = %+v", r)
	}
}

type ruleCase struct {
	name     string
	mutate   func(t testing.TB, f *rules.Facts)
	rule     string
	severity rules.Severity // 0: the rule must not fire
	resource string         // when set, the finding's resource
	evidence string         // when set, a substring of some evidence detail
}

func runRuleCases(t *testing.T, tests []ruleCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := baseline(t)
			tc.mutate(t, &f)
			r := rules.Evaluate(f)
			var got []rules.Finding
			for _, fd := range r.Findings {
				if fd.Rule == tc.rule {
					got = append(got, fd)
				}
			}
			dump := func() string { b, _ := json.MarshalIndent(r.Findings, "", "  "); return string(b) }
			if tc.severity == 0 {
				if len(got) != 0 {
					t.Fatalf("%s fired, want it not to:\n%s", tc.rule, dump())
				}
				return
			}
			i := slices.IndexFunc(got, func(fd rules.Finding) bool { return fd.Severity == tc.severity })
			if i < 0 {
				t.Fatalf("no %s finding of severity %v in:\n%s", tc.rule, tc.severity, dump())
			}
			fd := got[i]
			if tc.resource != "" && fd.Resource != tc.resource {
				t.Errorf("%s resource = %q, want %q", tc.rule, fd.Resource, tc.resource)
			}
			if fd.Title == "" || fd.Remediation == "" || len(fd.Evidence) == 0 {
				t.Errorf("%s lacks title, remediation or evidence: %+v", tc.rule, fd)
			}
			if tc.evidence != "" && !slices.ContainsFunc(fd.Evidence, func(e rules.Evidence) bool { return strings.Contains(e.Detail, tc.evidence) }) {
				t.Errorf("%s evidence lacks %q:\n%s", tc.rule, tc.evidence, dump())
			}
		})
	}
}

func addPolicy(t testing.TB, f *rules.Facts, arn string, p string) {
	t.Helper()
	extra := role(t, arn, trustECS, p)
	r := f.Roles[arn]
	r.Policies = append(r.Policies, extra.Policies...)
	r.Attached = append(r.Attached, extra.Attached...)
}

func setTrust(t testing.TB, f *rules.Facts, arn, trust string) { f.Roles[arn].Trust = parse(t, trust) }

func TestTaskDefinitionRules(t *testing.T) {
	t.Parallel()
	runRuleCases(t, []ruleCase{
		{"td001-same-role", func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, "TD-001", rules.High, execARN, "both"},
		{"td001-separate-roles", func(t testing.TB, f *rules.Facts) {}, "TD-001", 0, "", ""},
		{"td001-subsumes-td002", func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = execARN }, "TD-002", 0, "", ""},

		{"td002-managed-policy-on-task-role", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, policyTaskExecution+"|"+execManaged)
		}, "TD-002", rules.Medium, taskARN, "AmazonECSTaskExecutionRolePolicy"},
		{"td002-inline-pull-on-star", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage"],"Resource":"*"}}`)
		}, "TD-002", rules.Medium, taskARN, "pull any ECR image"},
		{"td002-app-reads-secrets-and-kms-is-normal", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","kms:Decrypt","ssm:GetParameters"],"Resource":"*"}}`)
		}, "TD-002", 0, "", ""},

		{"td003-write-outside-plane", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::uploads/*"}}`)
		}, "TD-003", rules.High, execARN, "s3:PutObject"},
		{"td003-read-only-outside-plane", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/t"}}`)
		}, "TD-003", rules.Medium, execARN, "dynamodb:GetItem"},
		{"td003-plane-only", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":["kms:Decrypt","ssm:GetParameters","s3:GetObject","s3:GetBucketLocation","logs:CreateLogGroup"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/k"}}`)
		}, "TD-003", 0, "", ""},
		{"td003-unknown-action-noted", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":"ecsguardtest:DoThing","Resource":"*"}}`)
		}, "TD-003", rules.Medium, execARN, "not in the IAM action catalog"},

		{"td004-secrets-on-star", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`)
		}, "TD-004", rules.Medium, execARN, "every Secrets Manager secret"},
		{"td004-parameters-whole-service-arn", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/*"}}`)
		}, "TD-004", rules.Medium, execARN, "every SSM parameter"},
		{"td004-name-prefix-passes", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, execARN, `{"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-*"}}`)
		}, "TD-004", 0, "", ""},

		{"td005-nothing-needs-exec-role", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.Containers = []rules.Container{{Name: "web", Image: "nginx:1.27"}}
		}, "TD-005", rules.Low, execARN, ""},
		{"td005-a-value-unresolved", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.Containers = []rules.Container{{Name: "web", Image: "nginx:1.27"}}
			f.TaskDefinition.Unresolved = []string{"Web.ContainerDefinitions[0].Secrets[0].ValueFrom"}
		}, "TD-005", 0, "", ""},
		{"td005-secrets-need-it", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.Containers[0].Image = "nginx:1.27"
			f.TaskDefinition.Containers[0].LogConfiguration = nil
		}, "TD-005", 0, "", ""},

		{"td006-missing-exec-role", func(t testing.TB, f *rules.Facts) { f.TaskDefinition.ExecutionRoleARN = "" }, "TD-006", rules.High, tdARN, "no executionRoleArn"},
		{"td006-lacks-secret", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.Containers[0].Secrets = append(f.TaskDefinition.Containers[0].Secrets, rules.Secret{Name: "API_KEY", ValueFrom: "arn:aws:secretsmanager:us-east-1:111122223333:secret:other/api-XyZ123"})
		}, "TD-006", rules.High, execARN, "other/api-XyZ123"},
		{"td006-lacks-pull", func(t testing.TB, f *rules.Facts) {
			r := f.Roles[execARN]
			r.Policies, r.Attached = r.Policies[1:], nil
		}, "TD-006", rules.High, execARN, "ecr:BatchGetImage"},
		{"td006-has-everything", func(t testing.TB, f *rules.Facts) {}, "TD-006", 0, "", ""},

		{"td007-ec2-without-task-role", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.RequiresCompatibilities = nil
			f.TaskDefinition.TaskRoleARN = ""
		}, "TD-007", rules.Medium, tdARN, "EC2"},
		{"td007-external-without-task-role", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.RequiresCompatibilities = []string{"EXTERNAL"}
			f.TaskDefinition.TaskRoleARN = ""
		}, "TD-007", rules.Medium, tdARN, "EXTERNAL"},
		{"td007-fargate-without-task-role", func(t testing.TB, f *rules.Facts) { f.TaskDefinition.TaskRoleARN = "" }, "TD-007", 0, "", ""},

		{"td008-admin", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, "arn:aws:iam::aws:policy/AdministratorAccess|"+`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		}, "TD-008", rules.Critical, taskARN, "every action on every resource"},
		{"td008-admin-subsumes-td009", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		}, "TD-009", 0, "", ""},
		{"td008-whole-service", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`)
		}, "TD-008", rules.High, taskARN, "dynamodb"},
		{"td008-power-user-notaction", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`)
		}, "TD-008", rules.High, taskARN, "every service except account, iam, organizations"},
		{"td008-conditional-counts", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)
		}, "TD-008", rules.High, taskARN, "sqs"},
		{"td008-service-on-named-resource-passes", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::web-assets/*"}]}`)
		}, "TD-008", 0, "", ""},
		{"td008-boundary-contains-admin", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
			f.Roles[taskARN].Boundary = &iampolicy.Policy{Name: "arn:aws:iam::111122223333:policy/boundary", Document: parse(t, s3TaskPolicy)}
		}, "TD-008", 0, "", ""},

		{"td009-passrole-on-star", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}`)
		}, "TD-009", rules.High, taskARN, "every role"},
		{"td009-put-own-role-policy", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"arn:aws:iam::111122223333:role/web-task"}}`)
		}, "TD-009", rules.High, taskARN, "iam:PutRolePolicy"},
		{"td009-passrole-scoped-with-runtask", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/batch-*","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}},{"Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}]}`)
		}, "TD-009", rules.High, taskARN, "ecs:RunTask"},
		{"td009-passrole-scoped-alone-passes", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/batch-*"}}`)
		}, "TD-009", 0, "", ""},
		{"td009-assume-any-role", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*"}}`)
		}, "TD-009", rules.High, taskARN, "sts:AssumeRole"},
		{"td009-denied-escalation-passes", func(t testing.TB, f *rules.Facts) {
			addPolicy(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)
		}, "TD-009", 0, "", ""},

		{"td010-star-without-condition", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}},{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`)
		}, "TD-010", rules.Critical, taskARN, `"*"`},
		{"td010-another-service", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, execARN, `{"Statement":[{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`)
		}, "TD-010", rules.Medium, execARN, "lambda.amazonaws.com"},
		{"td010-another-account", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`)
		}, "TD-010", rules.Medium, taskARN, "444455556666"},
		{"td010-ecs-tasks-only", func(t testing.TB, f *rules.Facts) {}, "TD-010", 0, "", ""},

		{"td011-no-source-condition", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
		}, "TD-011", rules.Low, taskARN, "aws:SourceAccount"},
		{"td011-source-arn-enough", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:*"}}}}`)
		}, "TD-011", 0, "", ""},
		{"td011-subsumed-by-critical-td010", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)
		}, "TD-011", 0, "", ""},

		{"td012-trusts-ec2-only", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, execARN, `{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
		}, "TD-012", rules.High, execARN, "ecs-tasks.amazonaws.com"},
		{"td012-subsumes-td010", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, execARN, `{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
		}, "TD-010", 0, "", ""},
		{"td012-deny-is-not-trust", func(t testing.TB, f *rules.Facts) {
			setTrust(t, f, taskARN, `{"Statement":{"Effect":"Deny","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}}`)
		}, "TD-012", rules.High, taskARN, ""},
		{"td012-trusted", func(t testing.TB, f *rules.Facts) {}, "TD-012", 0, "", ""},

		{"td013-shared-across-families", func(t testing.TB, f *rules.Facts) {
			f.Families = map[string][]string{taskARN: {"web", "worker"}}
		}, "TD-013", rules.Low, taskARN, "web, worker"},
		{"td013-own-family-only", func(t testing.TB, f *rules.Facts) {
			f.Families = map[string][]string{taskARN: {"web"}}
		}, "TD-013", 0, "", ""},

		{"td014-password-in-environment", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.Containers[0].Environment = append(f.TaskDefinition.Containers[0].Environment, rules.KeyValue{Name: "DB_PASSWORD", Value: "hunter2hunter2"})
		}, "TD-014", rules.High, tdARN, "DB_PASSWORD"},
		{"td014-access-key-value", func(t testing.TB, f *rules.Facts) {
			f.TaskDefinition.Containers[0].Environment = append(f.TaskDefinition.Containers[0].Environment, rules.KeyValue{Name: "X", Value: "AKIAIOSFODNN7EXAMPLE"})
		}, "TD-014", rules.High, tdARN, "container web"},
		{"td014-references-pass", func(t testing.TB, f *rules.Facts) {}, "TD-014", 0, "", ""},
	})
}

func TestEvidenceNeverHoldsEnvironmentValues(t *testing.T) {
	t.Parallel()
	f := baseline(t)
	f.TaskDefinition.Containers[0].Environment = append(f.TaskDefinition.Containers[0].Environment, rules.KeyValue{Name: "API_TOKEN", Value: "s3cr3t-value-that-must-not-leak"})
	b, _ := json.Marshal(rules.Evaluate(f))
	if strings.Contains(string(b), "s3cr3t-value") {
		t.Fatalf("report leaks the value: %s", b)
	}
}

func TestIncompleteNeverCompliant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(f *rules.Facts)
	}{
		{"role-absent", func(f *rules.Facts) { delete(f.Roles, execARN) }},
		{"loader-reported", func(f *rules.Facts) {
			f.Missing = []rules.FactError{{Subject: "arn:aws:iam::aws:policy/X", Err: errors.New("AccessDenied")}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := baseline(t)
			tc.mutate(&f)
			r := rules.Evaluate(f)
			if r.Complete || len(r.Errors) == 0 {
				t.Fatalf("report complete=%v errors=%v, want incomplete", r.Complete, r.Errors)
			}
			if !slices.ContainsFunc(r.Findings, func(fd rules.Finding) bool { return fd.Rule == rules.IncompleteRule && fd.Severity == rules.High }) {
				t.Fatalf("no %s finding: %+v", rules.IncompleteRule, r.Findings)
			}
			if r.ShouldDeregister(rules.Low) {
				t.Error("an incomplete report would deregister")
			}
		})
	}
	t.Run("not-exemptable", func(t *testing.T) {
		t.Parallel()
		f := baseline(t)
		delete(f.Roles, execARN)
		f.TaskDefinition.Tags = map[string]string{"ecsguard:exempt": "*", "ecsguard:exempt-reason": "everything, for the test"}
		for _, fd := range rules.Evaluate(f).Findings {
			if fd.Rule == rules.IncompleteRule && fd.Suppressed {
				t.Fatal("the incomplete finding was exempted")
			}
		}
	})
}

// Exempting the stronger finding accepts the mistake: with TD-001 exempted
// on a shared role, what TD-001 covers (TD-002, TD-003) stays hidden
// instead of surfacing in its place.
func TestExemptedFindingStillSubsumes(t *testing.T) {
	t.Parallel()
	f := baseline(t)
	f.TaskDefinition.TaskRoleARN = execARN
	f.TaskDefinition.Tags = map[string]string{"ecsguard:exempt": "TD-001", "ecsguard:exempt-reason": "split planned, PLAT-1234"}
	r := rules.Evaluate(f)
	var rulesFound []string
	for _, fd := range r.Findings {
		rulesFound = append(rulesFound, fd.Rule)
		if !fd.Suppressed {
			t.Errorf("open finding %s with TD-001 exempted", fd.Rule)
		}
	}
	if !slices.Equal(rulesFound, []string{"TD-001"}) {
		t.Errorf("findings = %v, want TD-001 alone, suppressed", rulesFound)
	}
}

// The action's JSON is the report's: typed values, the same text.
func TestActionJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a    rules.Action
		json string
	}{
		{rules.Action{}, `{"type":"none"}`},
		{rules.Action{Type: rules.ActionNone, Reason: "mode alert"}, `{"type":"none","reason":"mode alert"}`},
		{rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Deregistered}, Reason: "HIGH"}, `{"type":"deregister","result":"deregistered","reason":"HIGH"}`},
		{rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.WouldDeregister}}, `{"type":"deregister","result":"would deregister (dry run)"}`},
		{rules.Action{Type: rules.ActionDeregister, Result: rules.ActionResult{Kind: rules.Failed, Detail: "AccessDenied: no"}}, `{"type":"deregister","result":"failed: AccessDenied: no"}`},
	} {
		b, err := json.Marshal(tc.a)
		if err != nil || string(b) != tc.json {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.a, b, err, tc.json)
			continue
		}
		var back rules.Action
		if err := json.Unmarshal(b, &back); err != nil || back != tc.a {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", b, back, err, tc.a)
		}
	}
	var a rules.Action
	if err := json.Unmarshal([]byte(`{"type":"explode"}`), &a); err == nil {
		t.Error("an unknown action type was accepted")
	}
}

// A change to ecsguard's own resources is CRITICAL and cannot be exempted.
func TestTampering(t *testing.T) {
	t.Parallel()
	const topic = "arn:aws:sns:us-east-1:111122223333:ecsguard-findings"
	r := rules.Evaluate(rules.Facts{
		Account: account, Region: region,
		Trigger:  rules.Trigger{EventID: "e-1", EventName: "SetTopicAttributes", Actor: "arn:aws:iam::111122223333:role/intruder"},
		Tampered: &rules.Tampered{Resource: topic, Change: "SetTopicAttributes"},
	})
	if r.Subject.Type != rules.SubjectResource || r.Subject.ARN != topic || !r.Complete || len(r.Findings) != 1 {
		t.Fatalf("report = %+v", r)
	}
	f := r.Findings[0]
	if f.Rule != rules.TamperingRule || f.Severity != rules.Critical || !strings.Contains(f.Evidence[0].Detail, "intruder") {
		t.Errorf("finding = %+v", f)
	}
}
