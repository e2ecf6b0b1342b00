package iampolicy_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// FuzzParse: Parse never panics, fails only with a *ParseError, and a
// document it accepts can be compiled and evaluated. Seeds are the
// testdata documents plus the odd shapes (duplicate keys, case variants).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/documents/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		`{"Statement":{"Effect":"Allow","Action":"s3:*","Action":"iam:*","Resource":"*"}}`,
		`{"statement":{"effect":"Allow","action":"s3:*","resource":"*"}}`,
		`{"Statement":[{"Effect":"Deny","NotAction":[],"NotResource":[]}]}`,
		`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::${aws:username}/${*}${?}${$}${"}}`,
		`%7B%22Statement%22%3A%5B%5D%7D`,
		`{"Statement":[null]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["*",1]},"Action":"sts:AssumeRole"}}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"k":[true,1.5e300,"x"]}}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := iampolicy.Parse(doc)
		if err != nil {
			var pe *iampolicy.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T %v, want *ParseError", err, err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		s := iampolicy.NewSet([]iampolicy.Policy{{Name: "fuzz", Document: d}}, &iampolicy.Policy{Name: "b", Document: d})
		_ = s.Decide("s3:GetObject", "arn:aws:s3:::b/k")
		_ = s.Evaluate("iam:PassRole", "*")
	})
}

// globToRegexp is the reference for FuzzGlob: IAM's two wildcards in a
// regular expression. In a resource pattern with a colon (an ARN), '*' and
// '?' stay inside their colon-separated segment, except a '*' that ends a
// segment, which "can expand to match beyond the colon boundaries"
// (reference_policies_elements_resource.html).
func globToRegexp(p string, fold bool) *regexp.Regexp {
	segmented := !fold && strings.Contains(p, ":")
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	rs := []rune(p)
	for i, r := range rs {
		switch {
		case r == '*' && segmented && i+1 < len(rs) && rs[i+1] != ':':
			b.WriteString("[^:]*")
		case r == '*':
			b.WriteString("(?s:.*)")
		case r == '?' && segmented:
			b.WriteString("[^:]")
		case r == '?':
			b.WriteString("(?s:.)")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// FuzzGlob checks the resource matcher against the regexp reference, through
// the public evaluator: one Allow on the pattern decides the request.
func FuzzGlob(f *testing.F) {
	for _, c := range [][2]string{
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"},
		{"a*b*c", "aXbYbZc"},
		{"*?*", ""},
		{"arn:aws:logs:*:*:log-group:app-?:*", "arn:aws:logs:us-east-1:1:log-group:app-1:log-stream:x"},
		{"**a", "bbba"},
		{"arn:aws:iam*555*ob", "arn:aws:iam::555555555555:user/Bob"},
		{"arn:aws:ssm:*:parameter/prod/*", "arn:aws:ssm:us-east-1:111122223333:parameter/prod/x"},
		{"a*:x*y", "a1:x2:x3y"},
		{"a*:x*y", "a1:x2y"},
		{"*?", "arn:aws:s3:::b"},
		{"arn:aws:s3:::b/*.json", "arn:aws:s3:::b/dir:x/y.json"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, resource string) {
		if strings.Contains(pattern, "${") || strings.ContainsAny(pattern+resource, "\x00\x01\x02\"\\") || !utf8.ValidString(pattern) || !utf8.ValidString(resource) {
			return
		}
		doc := `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":` + quote(pattern) + `}}`
		d, err := iampolicy.Parse(doc)
		if err != nil {
			return
		}
		got := iampolicy.NewSet([]iampolicy.Policy{{Document: d}}, nil).Decide("s3:GetObject", resource) == iampolicy.Allowed
		want := globToRegexp(pattern, false).MatchString(resource)
		if got != want {
			t.Fatalf("pattern %q resource %q: matcher %v, regexp %v", pattern, resource, got, want)
		}
	})
}

func quote(s string) string { return `"` + s + `"` }
