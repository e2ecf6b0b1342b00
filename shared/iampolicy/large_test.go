package iampolicy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// largeDocument builds a document of n statements, each with ten actions and
// two resources: about 400 bytes a statement.
func largeDocument(n int) string {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Sid":"S%d","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:List*","dynamodb:GetItem","dynamodb:Query","sqs:SendMessage","sqs:ReceiveMessage","kms:Decrypt","logs:PutLogEvents","ssm:GetParameter"],"Resource":["arn:aws:s3:::bucket-%d/*","arn:aws:dynamodb:us-east-1:111122223333:table/t%d"]}`, i, i, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestLargeDocument: a document far beyond IAM's size limits (6 KB inline,
// 6,144 characters managed) still parses, compiles and evaluates.
func TestLargeDocument(t *testing.T) {
	t.Parallel()
	doc := largeDocument(20000) // ~8 MB
	d, err := iampolicy.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Statements) != 20000 {
		t.Fatalf("%d statements", len(d.Statements))
	}
	s := iampolicy.NewSet([]iampolicy.Policy{{Name: "large", Document: d}}, nil)
	if got := s.Decide("s3:GetObject", "arn:aws:s3:::bucket-19999/k"); got != iampolicy.Allowed {
		t.Errorf("last statement: %v", got)
	}
	if got := s.Decide("s3:GetObject", "arn:aws:s3:::bucket-20000/k"); got != iampolicy.NotAllowed {
		t.Errorf("beyond the last statement: %v", got)
	}
	if gs := s.Grants(nil); len(gs) < 10 {
		t.Errorf("%d grants", len(gs))
	}
}

// BenchmarkParse parses documents of growing size; MB/s stays flat when
// parsing is linear in the size of the document.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		doc := largeDocument(n)
		b.Run(fmt.Sprintf("statements=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := iampolicy.Parse(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
