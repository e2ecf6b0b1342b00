package awsfacts

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestEachPage(t *testing.T) {
	t.Parallel()
	tokens := []string{"a", "b", ""}
	var got []string
	err := eachPage(func(token *string) (*string, error) {
		got = append(got, aws.ToString(token))
		next := tokens[0]
		tokens = tokens[1:]
		return aws.String(next), nil
	})
	if err != nil || strings.Join(got, ",") != ",a,b" {
		t.Fatalf("tokens sent = %q, err %v", got, err)
	}

	calls := 0
	err = eachPage(func(*string) (*string, error) {
		calls++
		return aws.String("same"), nil
	})
	if err == nil || calls != 2 || !strings.Contains(err.Error(), "did not advance") {
		t.Fatalf("repeated token: %d calls, err %v", calls, err)
	}

	boom := errors.New("boom")
	if err := eachPage(func(*string) (*string, error) { return nil, boom }); err != boom {
		t.Fatalf("page error = %v", err)
	}
}
