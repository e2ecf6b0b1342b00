package iampolicy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

func TestParseShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		doc        string
		statements int
		check      func(t *testing.T, d *iampolicy.Document)
	}{
		{
			name:       "statement-object-action-string",
			doc:        `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`,
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				s := d.Statements[0]
				if len(s.Action) != 1 || s.Action[0] != "s3:GetObject" || s.Resource[0] != "arn:aws:s3:::b/*" {
					t.Errorf("statement = %+v", s)
				}
			},
		},
		{
			name:       "statement-list-action-list",
			doc:        `{"Statement":[{"Effect":"Deny","Action":["s3:*","kms:*"],"Resource":["*"]},{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::x"}]}`,
			statements: 2,
			check: func(t *testing.T, d *iampolicy.Document) {
				if d.Statements[0].Effect != iampolicy.Deny || len(d.Statements[0].Action) != 2 {
					t.Errorf("first = %+v", d.Statements[0])
				}
				if d.Statements[1].NotAction[0] != "iam:*" || d.Statements[1].NotResource[0] != "arn:aws:s3:::x" {
					t.Errorf("second = %+v", d.Statements[1])
				}
			},
		},
		{
			name:       "principal-star",
			doc:        `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`,
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				if !d.Statements[0].Principal.Everyone() {
					t.Error("Principal \"*\" is not Everyone")
				}
			},
		},
		{
			name:       "principal-types-string-or-list",
			doc:        `{"Statement":{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","events.amazonaws.com"],"AWS":"arn:aws:iam::111122223333:root","Federated":"cognito-identity.amazonaws.com"},"Action":["sts:AssumeRole"]}}`,
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				p := d.Statements[0].Principal
				if !p.HasService("events.amazonaws.com") || p.AWS[0] != "arn:aws:iam::111122223333:root" || p.Federated[0] != "cognito-identity.amazonaws.com" || p.Everyone() {
					t.Errorf("principal = %+v", p)
				}
			},
		},
		{
			name:       "not-principal",
			doc:        `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"*","Resource":"*"}}`,
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				if !d.Statements[0].NotPrincipal.Everyone() {
					t.Errorf("NotPrincipal = %+v", d.Statements[0].NotPrincipal)
				}
			},
		},
		{
			name:       "condition-values-of-every-type",
			doc:        `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"StringEquals":{"aws:SourceAccount":["111122223333"]},"StringLike":{"aws:SourceArn":"arn:aws:ecs:*"}}}}`,
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				c := d.Statements[0].Condition
				if got := c["Bool"]["aws:SecureTransport"]; len(got) != 1 || got[0] != "true" {
					t.Errorf("Bool = %v", got)
				}
				if got := c["NumericLessThan"]["s3:max-keys"]; got[0] != "10" {
					t.Errorf("Numeric = %v", got)
				}
				if ops, vals := c.Values("AWS:SOURCEACCOUNT"); len(ops) != 1 || vals[0] != "111122223333" {
					t.Errorf("Values(aws:SourceAccount) = %v %v", ops, vals)
				}
			},
		},
		{
			name:       "big-account-number-stays-exact",
			doc:        `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericEquals":{"x:n":123456789012345678}}}}`,
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				if got := d.Statements[0].Condition["NumericEquals"]["x:n"][0]; got != "123456789012345678" {
					t.Errorf("number = %q", got)
				}
			},
		},
		{
			name:       "url-encoded-plus-is-literal",
			doc:        "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Aa%2Bb%2F%2A%22%7D%7D",
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				if got := d.Statements[0].Resource[0]; got != "arn:aws:s3:::a+b/*" {
					t.Errorf("resource = %q, want arn:aws:s3:::a+b/*", got)
				}
			},
		},
		{
			name:       "url-encoded-slash-left-alone",
			doc:        "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn:aws:s3:::a/b%20c%22%7D%7D",
			statements: 1,
			check: func(t *testing.T, d *iampolicy.Document) {
				if got := d.Statements[0].Resource[0]; got != "arn:aws:s3:::a/b c" {
					t.Errorf("resource = %q", got)
				}
			},
		},
		{
			name:       "empty-statement-list",
			doc:        `{"Version":"2012-10-17","Statement":[]}`,
			statements: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := iampolicy.Parse(tc.doc)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.doc, err)
			}
			if len(d.Statements) != tc.statements {
				t.Fatalf("Parse(%q) has %d statements, want %d", tc.doc, len(d.Statements), tc.statements)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want error
		path string // substring of the message
	}{
		{"empty", "  ", iampolicy.ErrEmpty, ""},
		{"truncated", `{"Statement":[{"Effect":"Allow",`, iampolicy.ErrSyntax, "line 1 col"},
		{"syntax-line-col", "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"s3:*\"}\n  ]\n}", iampolicy.ErrSyntax, "line 3 col"},
		{"bad-percent", "%7B%ZZ", iampolicy.ErrEncoding, ""},
		{"array-top", `[1,2]`, iampolicy.ErrNotObject, ""},
		{"null-top", `null`, iampolicy.ErrNotObject, ""},
		{"no-statement", `{"Version":"2012-10-17"}`, iampolicy.ErrNoStatement, ""},
		{"action-number", `{"Statement":[{"Effect":"Allow","Action":3,"Resource":"*"}]}`, iampolicy.ErrNotStringOrList, "Statement[0].Action"},
		{"resource-list-of-numbers", `{"Statement":[{"Effect":"Allow","Action":"s3:*"},{"Effect":"Allow","Action":"s3:*","Resource":[1]}]}`, iampolicy.ErrNotStringOrList, "Statement[1].Resource"},
		{"effect-lower-case", `{"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}`, iampolicy.ErrEffect, "Statement.Effect"},
		{"effect-missing", `{"Statement":{"Action":"s3:*","Resource":"*"}}`, iampolicy.ErrEffect, "Statement.Effect"},
		{"no-action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, iampolicy.ErrNoAction, "Statement"},
		{"action-and-notaction", `{"Statement":{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}}`, iampolicy.ErrBothElements, "NotAction"},
		{"resource-and-notresource", `{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","NotResource":"x"}}`, iampolicy.ErrBothElements, "NotResource"},
		{"principal-bad-type", `{"Statement":{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"sts:AssumeRole"}}`, iampolicy.ErrPrincipal, "Statement.Principal"},
		{"principal-not-star-string", `{"Statement":{"Effect":"Allow","Principal":"someone","Action":"sts:AssumeRole"}}`, iampolicy.ErrPrincipal, "Statement.Principal"},
		{"condition-not-object", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"x"}}`, iampolicy.ErrCondition, "Statement.Condition"},
		{"condition-value-object", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}`, iampolicy.ErrConditionValue, "Statement.Condition"},
		{"statement-string", `{"Statement":"Allow everything"}`, iampolicy.ErrNotObject, "Statement"},
		{"statement-list-of-strings", `{"Statement":["x"]}`, iampolicy.ErrNotObject, "Statement[0]"},
		{"unknown-element", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resources":"*"}}`, nil, "Statement.Resources: unknown policy element"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := iampolicy.Parse(tc.doc)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.doc, d)
			}
			var pe *iampolicy.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", tc.doc, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.doc, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("Parse(%q) = %q, want it to mention %q", tc.doc, err, tc.path)
			}
		})
	}
}

func TestParseTestdataDocuments(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/documents/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no documents in testdata/documents (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := iampolicy.Parse(string(b))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(d.Statements) == 0 {
			t.Errorf("%s: no statements", f)
		}
		for i, s := range d.Statements {
			if len(s.Raw) == 0 {
				t.Errorf("%s: statement %d has no raw text", f, i)
			}
		}
	}
}

// A syntax error points at the bad byte: line and column from 1.
func TestParseErrorPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text      string
		line, col int
	}{
		{`{"Statement": x}`, 1, 15},
		{"{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",, }\n  ]\n}", 3, 24},
		{"{\"Statement\": [\n", 1, 16}, // truncated: just past the last byte
	}
	for _, tc := range tests {
		_, err := iampolicy.Parse(tc.text)
		var pe *iampolicy.ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || pe.Column != tc.col {
			t.Errorf("Parse(%q) = %v, want line %d col %d", tc.text, err, tc.line, tc.col)
		}
	}
}
