package awsexport_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/rules"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeTaskDefinitionFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		tags map[string]string
	}{
		{
			file: "taskdef.json",
			tags: map[string]string{"team": "payments", "ecsguard:exempt": "TD-011", "ecsguard:exempt-reason": "trust reviewed 2026-10"},
		},
		{file: "taskdef-bare.json"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			td, err := awsexport.DecodeTaskDefinition(readFile(t, tc.file))
			if err != nil {
				t.Fatalf("DecodeTaskDefinition: %v", err)
			}
			want := rules.TaskDefinition{
				ARN:                     "arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:42",
				Family:                  "web-api",
				Revision:                42,
				TaskRoleARN:             "arn:aws:iam::111122223333:role/web-api-task",
				ExecutionRoleARN:        "arn:aws:iam::111122223333:role/web-api-exec",
				NetworkMode:             "awsvpc",
				RequiresCompatibilities: []string{"FARGATE"},
				Status:                  "ACTIVE",
			}
			got := *td
			got.Containers, got.Tags = nil, nil
			if !equalTaskDefinition(got, want) {
				t.Errorf("DecodeTaskDefinition(%s) = %+v, want %+v", tc.file, got, want)
			}
			if !maps.Equal(td.Tags, tc.tags) {
				t.Errorf("Tags = %v, want %v", td.Tags, tc.tags)
			}
			if len(td.Containers) != 1 {
				t.Fatalf("got %d containers, want 1", len(td.Containers))
			}
			c := td.Containers[0]
			if c.Name != "web" || c.Image != "111122223333.dkr.ecr.us-east-1.amazonaws.com/web-api:1.14.2" ||
				len(c.Environment) != 2 || len(c.Secrets) != 1 || c.LogConfiguration == nil ||
				c.LogConfiguration.LogDriver != "awslogs" || c.LogConfiguration.Options["awslogs-group"] != "/ecs/web" {
				t.Errorf("container = %+v", c)
			}
		})
	}
}

func equalTaskDefinition(a, b rules.TaskDefinition) bool {
	return a.ARN == b.ARN && a.Family == b.Family && a.Revision == b.Revision &&
		a.TaskRoleARN == b.TaskRoleARN && a.ExecutionRoleARN == b.ExecutionRoleARN &&
		a.NetworkMode == b.NetworkMode && a.Status == b.Status &&
		slices.Equal(a.RequiresCompatibilities, b.RequiresCompatibilities)
}

func TestDecodeTaskDefinitionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		is    error
		want  string // the whole message
	}{
		{
			name:  "truncated-file",
			input: string(readFile(t, "truncated.json")),
			is:    awsexport.ErrSyntax,
			want:  "line 18 col 34: not valid JSON: unexpected end of JSON input",
		},
		{
			name:  "iam-export-instead",
			input: string(readFile(t, "account.json")),
			is:    awsexport.ErrNotTaskDefinition,
			want:  `not a describe-task-definition output: no "taskDefinition" object (it looks like a get-account-authorization-details output)`,
		},
		{
			name:  "unknown-object",
			input: `{"services":[]}`,
			is:    awsexport.ErrNotTaskDefinition,
			want:  `not a describe-task-definition output: no "taskDefinition" object`,
		},
		{
			name:  "list-task-definitions-output",
			input: `{"taskDefinitionArns":["arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:42"]}`,
			is:    awsexport.ErrNotTaskDefinition,
			want:  `not a describe-task-definition output: no "taskDefinition" object (it looks like a list-task-definitions output)`,
		},
		{
			name:  "top-level-array",
			input: `[{"taskDefinition":{}}]`,
			is:    awsexport.ErrNotTaskDefinition,
			want:  "not a describe-task-definition output: top level is an array, not an object",
		},
		{
			name:  "task-definition-null",
			input: `{"taskDefinition":null}`,
			is:    awsexport.ErrNotTaskDefinition,
			want:  `not a describe-task-definition output: "taskDefinition" is not an object`,
		},
		{
			name:  "empty",
			input: " \n",
			is:    awsexport.ErrEmpty,
			want:  "empty input",
		},
		{
			name:  "syntax-error-position",
			input: "{\n  \"taskDefinition\": {\n    \"family\": \"web\"\n    \"revision\": 1\n  }\n}\n",
			is:    awsexport.ErrSyntax,
			want:  "line 4 col 5: not valid JSON: invalid character '\"' after object key:value pair",
		},
		{
			name:  "wrong-type",
			input: "{\"taskDefinition\": {\n  \"taskDefinitionArn\": \"arn:aws:ecs:us-east-1:111122223333:task-definition/web:1\",\n  \"family\": \"web\",\n  \"revision\": \"1\",\n  \"containerDefinitions\": []}}",
			is:    awsexport.ErrType,
			want:  "line 4 col 17: taskDefinition.revision: wrong JSON type: got string, want int",
		},
		{
			name:  "missing-arn-register-input",
			input: `{"family":"web","containerDefinitions":[{"name":"web","image":"nginx"}]}`,
			is:    awsexport.ErrMissingField,
			want:  `task definition: missing field "taskDefinitionArn" (register-task-definition input has no ARN: use describe-task-definition output)`,
		},
		{
			name:  "missing-family",
			input: `{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:us-east-1:111122223333:task-definition/web:1","containerDefinitions":[]}}`,
			is:    awsexport.ErrMissingField,
			want:  `task definition: missing field "family"`,
		},
		{
			name:  "missing-containers",
			input: `{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:us-east-1:111122223333:task-definition/web:1","family":"web"}}`,
			is:    awsexport.ErrMissingField,
			want:  `task definition: missing field "containerDefinitions"`,
		},
		{
			name:  "missing-everything",
			input: `{"taskDefinition":{"revision":3}}`,
			is:    awsexport.ErrMissingField,
			want:  `task definition: missing field "taskDefinitionArn", "family", "containerDefinitions"`,
		},
		{
			name:  "bad-arn",
			input: `{"taskDefinition":{"taskDefinitionArn":"arn:aws:iam::111122223333:role/web","family":"web","containerDefinitions":[]}}`,
			is:    awsexport.ErrBadARN,
			want:  `task definition: taskDefinitionArn "arn:aws:iam::111122223333:role/web": not an ECS task definition ARN`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			td, err := awsexport.DecodeTaskDefinition([]byte(tc.input))
			if err == nil {
				t.Fatalf("DecodeTaskDefinition = %+v, want error %q", td, tc.want)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("DecodeTaskDefinition error %v is not %v", err, tc.is)
			}
			if err.Error() != tc.want {
				t.Errorf("DecodeTaskDefinition error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestDecodeTaskDefinitionTags(t *testing.T) {
	t.Parallel()
	const td = `"taskDefinitionArn":"arn:aws:ecs:eu-west-1:111122223333:task-definition/web:7","family":"web","containerDefinitions":[]`
	tests := []struct {
		name  string
		input string
		want  map[string]string
	}{
		{name: "describe-no-tags", input: `{"taskDefinition":{` + td + `}}`},
		{name: "describe-empty-tags", input: `{"taskDefinition":{` + td + `},"tags":[]}`},
		{name: "describe-tags", input: `{"taskDefinition":{` + td + `},"tags":[{"key":"ecsguard:exempt","value":"*"}]}`, want: map[string]string{"ecsguard:exempt": "*"}},
		{name: "bare-tags-beside-fields", input: `{` + td + `,"tags":[{"key":"a","value":"b"}]}`, want: map[string]string{"a": "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := awsexport.DecodeTaskDefinition([]byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got.Tags, tc.want) {
				t.Errorf("Tags = %v, want %v", got.Tags, tc.want)
			}
		})
	}
}

func TestTaskDefinitionARN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arn             string
		region, account string
		ok              bool
	}{
		{"arn:aws:ecs:us-east-1:111122223333:task-definition/web-api:42", "us-east-1", "111122223333", true},
		{"arn:aws-cn:ecs:cn-north-1:111122223333:task-definition/web:1", "cn-north-1", "111122223333", true},
		{"arn:aws:ecs:us-east-1:111122223333:service/web", "", "", false},
		{"arn:aws:ecs::111122223333:task-definition/web:1", "", "", false},
		{"web-api:42", "", "", false},
	}
	for _, tc := range tests {
		region, account, ok := awsexport.TaskDefinitionARN(tc.arn)
		if region != tc.region || account != tc.account || ok != tc.ok {
			t.Errorf("TaskDefinitionARN(%q) = %q, %q, %v, want %q, %q, %v", tc.arn, region, account, ok, tc.region, tc.account, tc.ok)
		}
	}
}
