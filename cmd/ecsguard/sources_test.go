package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/sarif"
)

func TestSourcesTaskDefinition(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:1"
	for _, tc := range []struct {
		name, doc string
		want      sarif.Location
	}{
		{"arn-key", "{\n  \"taskDefinition\": {\n    \"family\": \"web\",\n    \"taskDefinitionArn\": \"" + arn + "\"\n  }\n}\n", sarif.Location{URI: "td.json", Line: 4, Column: 5}},
		{"one-line", `{"tags":[],"taskDefinition":{"taskDefinitionArn":"` + arn + `"}}`, sarif.Location{URI: "td.json", Line: 1, Column: 30}},
		{"columns-in-code-points", "{\"taskDefinition\": {\"family\": \"équipe\", \"taskDefinitionArn\": \"" + arn + "\"}}", sarif.Location{URI: "td.json", Line: 1, Column: 41}},
		{"no-arn-key", "{\n\"taskDefinition\":\n  {\"family\": \"web\"}}", sarif.Location{URI: "td.json", Line: 2, Column: 1}},
		{"other-arn", `{"taskDefinition": {"taskDefinitionArn": "arn:other"}}`, sarif.Location{URI: "td.json", Line: 1, Column: 2}},
		{"nested-key-of-that-name", `{"x": {"taskDefinition": {"taskDefinitionArn": "` + arn + `"}}}`, sarif.Location{URI: "td.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := sources{}
			s.addTaskDefinition("./td.json", []byte(tc.doc), arn)
			if got, ok := s.locate(arn); !ok || got != tc.want {
				t.Errorf("locate = %+v, %v; want %+v", got, ok, tc.want)
			}
		})
	}
}

func TestSourcesAuthorizationDetails(t *testing.T) {
	t.Parallel()
	doc := `{
  "UserDetailList": [{"Arn": "arn:aws:iam::1:user/u"}],
  "RoleDetailList": [
    {"RoleName": "a", "Arn": "arn:aws:iam::1:role/a",
     "InstanceProfileList": [{"Arn": "arn:aws:iam::1:instance-profile/a", "Roles": [{"Arn": "arn:aws:iam::1:role/a"}]}]},
    {
      "Arn": "arn:aws:iam::1:role/b"
    }
  ],
  "Policies": [{"Arn": "arn:aws:iam::1:policy/p"}]
}`
	s := sources{}
	s.addAuthorizationDetails("exports/iam.json", []byte(doc))
	want := map[string]sarif.Location{
		"arn:aws:iam::1:role/a":   {URI: "exports/iam.json", Line: 4, Column: 23},
		"arn:aws:iam::1:role/b":   {URI: "exports/iam.json", Line: 7, Column: 7},
		"arn:aws:iam::1:policy/p": {URI: "exports/iam.json", Line: 10, Column: 17},
	}
	if len(s) != len(want) {
		t.Errorf("sources = %+v, want only roles and policies", s)
	}
	for arn, w := range want {
		if got, ok := s.locate(arn); !ok || got != w {
			t.Errorf("%s: %+v, %v; want %+v", arn, got, ok, w)
		}
	}
}

// walkJSON gives every value its path and the offset where its key, or
// the value in an array, begins.
func TestWalkJSON(t *testing.T) {
	t.Parallel()
	doc := `{"a": [1, {"b": "x"}], "c" : {"d": null}, "e": true}`
	var got []string
	err := walkJSON([]byte(doc), func(path []string, offset int, v json.Token) {
		got = append(got, strings.Join(path, ".")+"@"+doc[offset:offset+3])
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`@{"a`, `a@"a"`, `a.0@1, `, `a.1@{"b`, `a.1.b@"b"`, `c@"c"`, `c.d@"d"`, `e@"e"`}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("walk:\n got %q\nwant %q", got, want)
	}
	if err := walkJSON([]byte(`{"a": [1,`), func([]string, int, json.Token) {}); err == nil {
		t.Error("walk of a cut document: no error")
	}
}

func TestFileURI(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"testdata/iam.json":   "testdata/iam.json",
		"./deploy/../td.json": "td.json",
		"/srv/repo/td.json":   "file:///srv/repo/td.json",
		"deploy/my task.json": "deploy/my%20task.json",
		"deploy/100%/td.json": "deploy/100%25/td.json",
	} {
		if got := fileURI(in); got != want {
			t.Errorf("fileURI(%q) = %q, want %q", in, got, want)
		}
	}
}
