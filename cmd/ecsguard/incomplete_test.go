package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/rules"
)

const policyTaskExecution = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

// rewrite writes a copy of the JSON file src, changed by edit, to a
// temporary file and returns its path.
func rewrite(t *testing.T, src string, edit func(d map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	edit(d)
	if b, err = json.Marshal(d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func rulesOf(r rules.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Rule)
	}
	return out
}

// web-api's execution role has AmazonECSTaskExecutionRolePolicy attached,
// but the export lacks the policy. check must not say the role lacks
// ecr:GetAuthorizationToken: it reports the evaluation incomplete, naming
// the policy, and exits 1 whatever --fail-on.
func TestCheckMissingManagedPolicy(t *testing.T) {
	t.Parallel()
	iam := rewrite(t, iamExport, func(d map[string]any) {
		d["Policies"] = slices.DeleteFunc(d["Policies"].([]any), func(p any) bool { return p.(map[string]any)["Arn"] == policyTaskExecution })
	})
	code, reports := runJSON(t, "--task-definition", tdWebAPI, "--iam", iam, "--fail-on", "CRITICAL")
	if code != exitFindings {
		t.Errorf("exit code = %d, want %d (incomplete)", code, exitFindings)
	}
	if len(reports) == 0 || reports[0].Subject.ARN != arnWebAPI {
		t.Fatalf("subjects = %q", subjects(reports))
	}
	r := reports[0]
	want := policyTaskExecution + ": attached to role web-api-exec: policy ARN not found in IAM export"
	if r.Complete || !slices.Equal(r.Errors, []string{want}) {
		t.Errorf("complete = %v, errors = %q; want incomplete with [%q]", r.Complete, r.Errors, want)
	}
	if got := rulesOf(r); slices.Contains(got, "TD-006") {
		t.Errorf("findings %v: TD-006 claimed on a role whose policy is not in the export", got)
	}

	code, stdout, _ := runCLI(t, "check", "--task-definition", tdWebAPI, "--iam", iam)
	if code != exitFindings || strings.Contains(stdout, "TD-006") || !strings.Contains(stdout, "AmazonECSTaskExecutionRolePolicy: attached to role web-api-exec") {
		t.Errorf("text: exit %d, output:\n%s", code, stdout)
	}
}

// A role of another account is never judged by the export's role of the
// same name: an ARN of account 999999999999, or a name in a task
// definition of another account than the export's.
func TestCheckRoleOfAnotherAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(td map[string]any)
		subject string
		want    string
	}{
		{
			name:    "execution-role-arn",
			edit:    func(td map[string]any) { td["executionRoleArn"] = "arn:aws:iam::999999999999:role/web-api-exec" },
			subject: arnWebAPI,
			want:    "arn:aws:iam::999999999999:role/web-api-exec: role in another account: it is in account 999999999999 and cannot be read from account 111122223333",
		},
		{
			name: "role-name-in-foreign-task-definition",
			edit: func(td map[string]any) {
				td["taskDefinitionArn"] = "arn:aws:ecs:us-east-1:444455556666:task-definition/web-api:42"
				td["taskRoleArn"] = "arn:aws:iam::444455556666:role/web-api-task"
				td["executionRoleArn"] = "web-api-exec"
			},
			subject: "arn:aws:ecs:us-east-1:444455556666:task-definition/web-api:42",
			want:    "arn:aws:iam::444455556666:role/web-api-exec: role ARN not found in IAM export",
		},
		{
			name: "export-role-arn-in-foreign-task-definition",
			edit: func(td map[string]any) {
				td["taskDefinitionArn"] = "arn:aws:ecs:us-east-1:444455556666:task-definition/web-api:42"
				td["taskRoleArn"] = "arn:aws:iam::444455556666:role/web-api-task"
			},
			subject: "arn:aws:ecs:us-east-1:444455556666:task-definition/web-api:42",
			want:    "arn:aws:iam::111122223333:role/web-api-exec: role in another account: it is in account 111122223333 and cannot be read from account 444455556666",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			td := rewrite(t, tdWebAPI, func(d map[string]any) { tc.edit(d["taskDefinition"].(map[string]any)) })
			code, reports := runJSON(t, "--task-definition", td, "--iam", iamExport)
			if code != exitFindings {
				t.Errorf("exit code = %d, want %d", code, exitFindings)
			}
			if len(reports) == 0 || reports[0].Subject.ARN != tc.subject {
				t.Fatalf("subjects = %q", subjects(reports))
			}
			r := reports[0]
			if r.Complete || !slices.Contains(r.Errors, tc.want) {
				t.Errorf("complete = %v, errors = %q; want incomplete with %q", r.Complete, r.Errors, tc.want)
			}
			for _, f := range r.Findings {
				if f.Rule == "TD-006" || strings.Contains(f.Resource, "111122223333:role/web-api-exec") && f.Rule != rules.IncompleteRule {
					t.Errorf("finding judged on the export's web-api-exec: %+v", f)
				}
			}
		})
	}
}

// scan judges like the live loader: an executionRoleArn of another
// account is not read as this account's role of the same name.
func TestScanRoleOfAnotherAccount(t *testing.T) {
	sample, cfg, env := seeded(t)
	env(moto.URL())
	foreign := "arn:aws:iam::999999999999:role/web-api-exec" // web-api-exec exists in the sample account
	_, err := ecs.NewFromConfig(cfg).RegisterTaskDefinition(context.Background(), &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("foreign-exec"),
		TaskRoleArn:             aws.String(sample.Roles["web-api-task"]),
		ExecutionRoleArn:        aws.String(foreign),
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(sample.Account + ".dkr.ecr.us-east-1.amazonaws.com/app:1"), Memory: aws.Int32(512),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runScan(t, "--endpoint-url", moto.URL(), "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r, ok := byEnd(decodeScan(t, stdout).Reports)["task-definition/foreign-exec:1"]
	if !ok {
		t.Fatal("no report on foreign-exec:1")
	}
	want := fmt.Sprintf("%s: role in another account: it is in account 999999999999 and cannot be read from account %s", foreign, sample.Account)
	if r.Complete || !slices.Equal(r.Errors, []string{want}) {
		t.Errorf("complete = %v, errors = %q; want incomplete with [%q]", r.Complete, r.Errors, want)
	}
	if got := rulesOf(r); slices.Contains(got, "TD-006") || slices.Contains(got, "TD-003") {
		t.Errorf("findings %v judge a role that was not read", got)
	}
}

// A task definition scan may not describe is reported incomplete with the
// error and nothing judged on its empty stand-in (no TD-007).
func TestScanUndescribableTaskDefinition(t *testing.T) {
	proxy := proxied(t)
	proxy.Fail("DescribeTaskDefinition", 1, emulator.AccessDenied)
	code, stdout, stderr := runScan(t, "--endpoint-url", proxy.URL(), "--format", "json", "--workers", "1")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	res := decodeScan(t, stdout)
	var incomplete []rules.Report
	for _, r := range res.Reports {
		if !r.Complete {
			incomplete = append(incomplete, r)
		}
	}
	if len(incomplete) != 1 || res.Summary.Incomplete != 1 {
		t.Fatalf("incomplete reports %d, summary %+v; want 1", len(incomplete), res.Summary)
	}
	r := incomplete[0]
	if r.Subject.Type != rules.SubjectTaskDefinition || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "AccessDenied") {
		t.Errorf("subject %s %s, errors %q", r.Subject.Type, r.Subject.ARN, r.Errors)
	}
	if got := rulesOf(r); !slices.Equal(got, []string{rules.IncompleteRule}) {
		t.Errorf("findings = %v, want %s alone", got, rules.IncompleteRule)
	}
}
