package awsexport_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	acct         = "arn:aws:iam::111122223333:"
	execPolicy   = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	eventsPolicy = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceEventsRole"
	ec2Policy    = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
	slrPolicy    = "arn:aws:iam::aws:policy/aws-service-role/AmazonECSServiceRolePolicy"
)

// summary writes the facts of a role that the rules read, one per line, so
// tests compare them as text and documents compare by meaning rather than
// by the whitespace of their raw statements.
func summary(r *rules.Role) string {
	var b strings.Builder
	fmt.Fprintf(&b, "role %s name=%s path=%s\n", r.ARN, r.Name, r.Path)
	fmt.Fprintf(&b, "trust %s\n", docSummary(r.Trust))
	for _, p := range r.Policies {
		fmt.Fprintf(&b, "policy %s %s\n", p.Name, docSummary(p.Document))
	}
	fmt.Fprintf(&b, "attached %v\n", r.Attached)
	if r.Boundary != nil {
		fmt.Fprintf(&b, "boundary %s %s\n", r.Boundary.Name, docSummary(r.Boundary.Document))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		fmt.Fprintf(&b, "tag %s=%s\n", k, r.Tags[k])
	}
	fmt.Fprintf(&b, "uses %v\n", r.Uses)
	return b.String()
}

func docSummary(d *iampolicy.Document) string {
	if d == nil {
		return "<nil>"
	}
	var parts []string
	for _, s := range d.Statements {
		p := s.Effect.String()
		if s.Sid != "" {
			p += " " + s.Sid
		}
		if s.Principal != nil {
			p += fmt.Sprintf(" principal=%v", s.Principal.Service)
		}
		if s.Action != nil {
			p += fmt.Sprintf(" %v", s.Action)
		}
		if s.NotAction != nil {
			p += fmt.Sprintf(" not%v", s.NotAction)
		}
		if s.Resource != nil {
			p += fmt.Sprintf(" on %v", s.Resource)
		}
		if s.Condition != nil {
			p += fmt.Sprintf(" if %v", s.Condition.Keys())
		}
		parts = append(parts, p)
	}
	return "{" + strings.Join(parts, "; ") + "}"
}

func decodeAccount(t *testing.T, file string) *awsexport.Account {
	t.Helper()
	a, err := awsexport.DecodeAuthorizationDetails(readFile(t, file))
	if err != nil {
		t.Fatalf("DecodeAuthorizationDetails(%s): %v", file, err)
	}
	return a
}

const (
	trustECSTasks = "trust {Allow principal=[ecs-tasks.amazonaws.com] [sts:AssumeRole] if [aws:sourceaccount]}\n"
	webAPIExec    = "role arn:aws:iam::111122223333:role/web-api-exec name=web-api-exec path=/\n" +
		trustECSTasks +
		"policy " + execPolicy + " {Allow [ecr:GetAuthorizationToken ecr:BatchCheckLayerAvailability ecr:GetDownloadUrlForLayer ecr:BatchGetImage logs:CreateLogStream logs:PutLogEvents] on [*]}\n" +
		"policy arn:aws:iam::111122223333:policy/web-api-secrets {Allow ReadAppSecrets [secretsmanager:GetSecretValue] on [arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web-api/*]; Allow DecryptAppSecrets [kms:Decrypt] on [arn:aws:kms:us-east-1:111122223333:key/0d9c1f7e-4b1a-4f0e-9c55-6c2f2b8e7a10]}\n" +
		"attached [" + execPolicy + " arn:aws:iam::111122223333:policy/web-api-secrets]\n" +
		"boundary arn:aws:iam::111122223333:policy/ecs-workload-boundary {Allow EcsWorkloads not[iam:* organizations:* account:*] on [*]; Deny NoBoundaryRemoval [iam:DeleteRolePermissionsBoundary iam:PutRolePermissionsBoundary] on [*]}\n" +
		"uses []\n"
)

func TestDecodeAuthorizationDetails(t *testing.T) {
	t.Parallel()
	a := decodeAccount(t, "account.json")
	want := map[string]string{
		acct + "role/web-api-task": "role arn:aws:iam::111122223333:role/web-api-task name=web-api-task path=/\n" +
			trustECSTasks +
			"policy inline:uploads-and-queue {Allow Uploads [s3:GetObject s3:PutObject] on [arn:aws:s3:::payments-uploads-111122223333/*]; Allow Queue [sqs:SendMessage sqs:ReceiveMessage sqs:DeleteMessage] on [arn:aws:sqs:us-east-1:111122223333:payments-events]}\n" +
			"attached []\n" +
			"tag environment=prod\ntag team=payments\n" +
			"uses []\n",
		acct + "role/web-api-exec": webAPIExec,
		acct + "role/ecsEventsRole": "role arn:aws:iam::111122223333:role/ecsEventsRole name=ecsEventsRole path=/\n" +
			"trust {Allow principal=[events.amazonaws.com] [sts:AssumeRole]}\n" +
			"policy " + eventsPolicy + " {Allow [ecs:RunTask] on [*]; Allow [iam:PassRole] on [*] if [iam:passedtoservice]; Allow [ecs:TagResource] on [*] if [ecs:createaction]}\n" +
			"attached [" + eventsPolicy + "]\n" +
			"uses []\n",
		acct + "role/ecsInstanceRole": "role arn:aws:iam::111122223333:role/ecsInstanceRole name=ecsInstanceRole path=/\n" +
			"trust {Allow principal=[ec2.amazonaws.com] [sts:AssumeRole]}\n" +
			"policy " + ec2Policy + " {Allow DescribeEC2Tags [ec2:DescribeTags] on [*]; Allow ECSInstanceManagement [ecs:CreateCluster ecs:DeregisterContainerInstance ecs:DiscoverPollEndpoint ecs:Poll ecs:RegisterContainerInstance ecs:StartTelemetrySession ecs:UpdateContainerInstancesState ecs:Submit*] on [*]; Allow ECRImagePull [ecr:GetAuthorizationToken ecr:BatchCheckLayerAvailability ecr:GetDownloadUrlForLayer ecr:BatchGetImage] on [*]; Allow CloudWatchLogs [logs:CreateLogStream logs:PutLogEvents] on [*]; Allow ECSTagging [ecs:TagResource] on [*] if [ecs:createaction]; Allow ECSTagListing [ecs:ListTagsForResource] on [arn:aws:ecs:*:*:task/*/* arn:aws:ecs:*:*:container-instance/*/*]}\n" +
			"attached [" + ec2Policy + "]\n" +
			"uses [{instance-profile arn:aws:iam::111122223333:instance-profile/ecsInstanceRole}]\n",
	}
	for arn, w := range want {
		r, missing := a.Role(arn)
		if r == nil {
			t.Errorf("Role(%s) = nil, %v", arn, missing)
			continue
		}
		if got := summary(r); got != w {
			t.Errorf("Role(%s):\n got %s\nwant %s", arn, got, w)
		}
		if len(missing) > 0 {
			t.Errorf("Role(%s) missing = %v, want none", arn, missing)
		}
	}

	slr, missing := a.Role(acct + "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")
	if slr == nil || !slr.ServiceLinked() || len(slr.Policies) != 1 || slr.Policies[0].Name != slrPolicy || len(missing) != 0 {
		t.Errorf("service-linked role = %+v, %v", slr, missing)
	}
	if len(a.Roles) != 5 || len(a.Missing) != 0 || a.Truncated || len(a.Notes) != 0 {
		t.Errorf("account: %d roles, missing %v, truncated %v, notes %q; want 5 roles and nothing else", len(a.Roles), a.Missing, a.Truncated, a.Notes)
	}
}

// The raw IAM API returns documents URL-encoded; the AWS CLI decodes them.
// Both forms give the same facts.
func TestDecodeAuthorizationDetailsURLEncoded(t *testing.T) {
	t.Parallel()
	a := decodeAccount(t, "account-urlencoded.json")
	r, missing := a.Role(acct + "role/web-api-exec")
	if r == nil || len(missing) != 0 {
		t.Fatalf("Role(web-api-exec) = %v, %v", r, missing)
	}
	if got := summary(r); got != webAPIExec {
		t.Errorf("Role(web-api-exec):\n got %s\nwant %s", got, webAPIExec)
	}
	// The default version (v2, scoped to prod/web-api/) decides, not v1's "*".
	set := r.Permissions()
	for _, tc := range []struct {
		action, resource string
		want             iampolicy.Decision
	}{
		{"ecr:BatchGetImage", "*", iampolicy.Allowed},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web-api/db-AbCdEf", iampolicy.Allowed},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/billing/db-XyZ123", iampolicy.NotAllowed},
	} {
		if got := set.Decide(tc.action, tc.resource); got != tc.want {
			t.Errorf("Decide(%s, %s) = %v, want %v", tc.action, tc.resource, got, tc.want)
		}
	}
}

func TestAccountRoleLookup(t *testing.T) {
	t.Parallel()
	a := decodeAccount(t, "account.json")
	tests := []struct {
		name    string
		arn     string
		wantARN string
		wantErr string
	}{
		{name: "arn", arn: acct + "role/web-api-task", wantARN: acct + "role/web-api-task"},
		{name: "short-name", arn: "web-api-task", wantARN: acct + "role/web-api-task"},
		{name: "arn-with-path", arn: acct + "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS", wantARN: acct + "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"},
		{name: "unknown-arn", arn: acct + "role/deleted-role", wantErr: acct + "role/deleted-role: role ARN not found in IAM export"},
		{name: "other-account", arn: "arn:aws:iam::444455556666:role/web-api-task", wantErr: "arn:aws:iam::444455556666:role/web-api-task: role ARN not found in IAM export"},
		{name: "unknown-name", arn: "ghost", wantErr: "ghost: role ARN not found in IAM export"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, missing := a.Role(tc.arn)
			if tc.wantErr == "" {
				if r == nil || r.ARN != tc.wantARN || len(missing) != 0 {
					t.Errorf("Role(%q) = %v, %v, want %s", tc.arn, r, missing, tc.wantARN)
				}
				return
			}
			if r != nil || len(missing) != 1 || missing[0].Error() != tc.wantErr || !errors.Is(missing[0].Err, awsexport.ErrRoleNotFound) {
				t.Errorf("Role(%q) = %v, %v, want nil and %q", tc.arn, r, missing, tc.wantErr)
			}
		})
	}
}

func TestAccountMissingPolicy(t *testing.T) {
	t.Parallel()
	a := decodeAccount(t, "account-missing-policy.json")
	r, missing := a.Role(acct + "role/batch-task")
	if r == nil {
		t.Fatal("Role(batch-task) = nil")
	}
	absent := acct + "policy/batch-data-access"
	if !slices.Equal(r.Attached, []string{execPolicy, absent}) {
		t.Errorf("Attached = %v", r.Attached)
	}
	if len(r.Policies) != 1 || r.Policies[0].Name != execPolicy {
		t.Errorf("Policies = %v, want only %s", r.Policies, execPolicy)
	}
	want := absent + ": attached to role batch-task: policy ARN not found in IAM export"
	if len(missing) != 1 || missing[0].Subject != absent || missing[0].Error() != want || !errors.Is(missing[0].Err, awsexport.ErrPolicyNotFound) {
		t.Errorf("missing = %v, want [%s]", missing, want)
	}
	if got := a.Missing[r.ARN]; len(got) != 1 {
		t.Errorf("Account.Missing[%s] = %v", r.ARN, got)
	}
	// Role returns a copy: the account's record stays as decoded.
	missing[0].Subject = "changed"
	if _, again := a.Role(r.ARN); again[0].Subject != absent {
		t.Error("Role returned the account's own slice")
	}
}

func TestAccountTruncatedExport(t *testing.T) {
	t.Parallel()
	a := decodeAccount(t, "account-truncated-export.json")
	if !a.Truncated || len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "truncated") {
		t.Errorf("Truncated = %v, Notes = %q", a.Truncated, a.Notes)
	}
	if r, _ := a.Role(acct + "role/web-api-task"); r == nil {
		t.Error("the first page's role is missing")
	}
	_, missing := a.Role(acct + "role/web-api-exec")
	want := acct + "role/web-api-exec: role ARN not found in IAM export (the export is truncated)"
	if len(missing) != 1 || missing[0].Error() != want || !errors.Is(missing[0].Err, awsexport.ErrRoleNotFound) {
		t.Errorf("missing = %v, want [%s]", missing, want)
	}
}

// Unresolvable facts of one role are recorded for that role, never fatal.
func TestAccountUnresolvedFacts(t *testing.T) {
	t.Parallel()
	const (
		trust   = `"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		role    = `"Path":"/","RoleName":"app","Arn":"arn:aws:iam::111122223333:role/app"`
		custom  = "arn:aws:iam::111122223333:policy/custom"
		attach  = `"AttachedManagedPolicies":[{"PolicyName":"custom","PolicyArn":"` + custom + `"}]`
		goodDoc = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`
	)
	tests := []struct {
		name     string
		input    string
		is       error
		want     string
		policies int
	}{
		{
			name:  "no-default-version",
			input: `{"RoleDetailList":[{` + role + `,` + trust + `,` + attach + `}],"Policies":[{"PolicyName":"custom","Arn":"` + custom + `","DefaultVersionId":"v3","PolicyVersionList":[{"Document":` + goodDoc + `,"VersionId":"v1","IsDefaultVersion":false}]}]}`,
			is:    awsexport.ErrNoDefaultVersion,
			want:  custom + ": attached to role app: policy has no default version in IAM export",
		},
		{
			name:     "default-by-version-id",
			input:    `{"RoleDetailList":[{` + role + `,` + trust + `,` + attach + `}],"Policies":[{"PolicyName":"custom","Arn":"` + custom + `","DefaultVersionId":"v1","PolicyVersionList":[{"Document":` + goodDoc + `,"VersionId":"v1"}]}]}`,
			policies: 1,
		},
		{
			name:  "managed-document-does-not-parse",
			input: `{"RoleDetailList":[{` + role + `,` + trust + `,` + attach + `}],"Policies":[{"PolicyName":"custom","Arn":"` + custom + `","DefaultVersionId":"v2","PolicyVersionList":[{"Document":{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":7,"Resource":"*"}},"VersionId":"v2","IsDefaultVersion":true}]}]}`,
			is:    iampolicy.ErrNotStringOrList,
			want:  custom + ": attached to role app: default version v2: Statement.Action: not a string or list of strings",
		},
		{
			name:  "inline-bad-url-encoding",
			input: `{"RoleDetailList":[{` + role + `,` + trust + `,"RolePolicyList":[{"PolicyName":"broken","PolicyDocument":"%7B%zz"}]}]}`,
			is:    iampolicy.ErrEncoding,
			want:  "arn:aws:iam::111122223333:role/app: inline policy broken: not valid URL encoding",
		},
		{
			name:  "inline-document-not-object-or-string",
			input: `{"RoleDetailList":[{` + role + `,` + trust + `,"RolePolicyList":[{"PolicyName":"odd","PolicyDocument":[1]}]}]}`,
			is:    iampolicy.ErrNotObject,
			want:  "arn:aws:iam::111122223333:role/app: inline policy odd: not a JSON object",
		},
		{
			name:  "boundary-not-in-export",
			input: `{"RoleDetailList":[{` + role + `,` + trust + `,"PermissionsBoundary":{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/boundary"}}],"Policies":[]}`,
			is:    awsexport.ErrPolicyNotFound,
			want:  "arn:aws:iam::111122223333:policy/boundary: permissions boundary of role app: policy ARN not found in IAM export",
		},
		{
			name:  "no-trust-policy",
			input: `{"RoleDetailList":[{` + role + `}]}`,
			is:    awsexport.ErrNoDocument,
			want:  "arn:aws:iam::111122223333:role/app: trust policy: no policy document",
		},
		{
			name:  "trust-policy-syntax",
			input: `{"RoleDetailList":[{` + role + `,"AssumeRolePolicyDocument":"%7B%22Statement%22%3A"}]}`,
			is:    iampolicy.ErrSyntax,
			want:  "arn:aws:iam::111122223333:role/app: trust policy: line 1 col 14: not valid JSON: unexpected end of JSON input",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := awsexport.DecodeAuthorizationDetails([]byte(tc.input))
			if err != nil {
				t.Fatalf("DecodeAuthorizationDetails: %v", err)
			}
			r, missing := a.Role("arn:aws:iam::111122223333:role/app")
			if r == nil {
				t.Fatal("Role(app) = nil")
			}
			if len(r.Policies) != tc.policies {
				t.Errorf("got %d policies, want %d", len(r.Policies), tc.policies)
			}
			if tc.want == "" {
				if len(missing) != 0 {
					t.Errorf("missing = %v, want none", missing)
				}
				return
			}
			if len(missing) != 1 {
				t.Fatalf("missing = %v, want [%s]", missing, tc.want)
			}
			if got := missing[0].Error(); got != tc.want {
				t.Errorf("missing:\n got %s\nwant %s", got, tc.want)
			}
			if !errors.Is(missing[0].Err, tc.is) {
				t.Errorf("missing error %v is not %v", missing[0].Err, tc.is)
			}
		})
	}
}

func TestDecodeAuthorizationDetailsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		is    error
		want  string
	}{
		{
			name:  "task-definition-instead",
			input: string(readFile(t, "taskdef.json")),
			is:    awsexport.ErrNotAuthorizationDetails,
			want:  `not a get-account-authorization-details output: no "RoleDetailList" (it looks like a describe-task-definition output)`,
		},
		{
			name:  "get-role-output",
			input: `{"Role":{"RoleName":"app"}}`,
			is:    awsexport.ErrNotAuthorizationDetails,
			want:  `not a get-account-authorization-details output: no "RoleDetailList" (it looks like a get-role output)`,
		},
		{
			name:  "truncated-json",
			input: "{\n    \"RoleDetailList\": [\n        {\n            \"Path\": \"/\",\n",
			is:    awsexport.ErrSyntax,
			want:  "line 4 col 24: not valid JSON: unexpected end of JSON input",
		},
		{
			name:  "role-list-not-a-list",
			input: "{\n  \"RoleDetailList\": {\"Path\": \"/\"}\n}",
			is:    awsexport.ErrType,
			want:  "line 2 col 21: RoleDetailList: wrong JSON type: got object, want []awsexport.roleDetail",
		},
		{
			name:  "top-level-string",
			input: `"RoleDetailList"`,
			is:    awsexport.ErrNotAuthorizationDetails,
			want:  "not a get-account-authorization-details output: top level is a string, not an object",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := awsexport.DecodeAuthorizationDetails([]byte(tc.input))
			if err == nil || !errors.Is(err, tc.is) || err.Error() != tc.want {
				t.Errorf("DecodeAuthorizationDetails error:\n got %v\nwant %s (is %v)", err, tc.want, tc.is)
			}
		})
	}
}

func TestDecodeAuthorizationDetailsNotes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		input     string
		truncated bool
		notes     []string
	}{
		{name: "complete", input: `{"RoleDetailList":[],"Policies":[],"IsTruncated":false}`},
		{name: "only-users-and-groups", input: `{"UserDetailList":[],"GroupDetailList":[]}`},
		{
			name:      "marker",
			input:     `{"RoleDetailList":[],"IsTruncated":true,"Marker":"abc"}`,
			truncated: true,
			notes:     []string{"the export is truncated (IsTruncated or a pagination token is set): roles and policies after the first page are absent; export without --max-items or --no-paginate"},
		},
		{
			name:      "cli-next-token",
			input:     `{"RoleDetailList":[],"NextToken":"eyJNYXJrZXIiOiBudWxsfQ=="}`,
			truncated: true,
			notes:     []string{"the export is truncated (IsTruncated or a pagination token is set): roles and policies after the first page are absent; export without --max-items or --no-paginate"},
		},
		{
			name:  "role-without-arn",
			input: `{"RoleDetailList":[{"RoleName":"odd"}]}`,
			notes: []string{`RoleDetailList[0] ("odd") has no Arn: skipped`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := awsexport.DecodeAuthorizationDetails([]byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if a.Truncated != tc.truncated || !slices.Equal(a.Notes, tc.notes) || len(a.Roles) != 0 {
				t.Errorf("Truncated = %v, Notes = %q, %d roles; want %v, %q, 0", a.Truncated, a.Notes, len(a.Roles), tc.truncated, tc.notes)
			}
		})
	}
}
