package iampolicy_test

import (
	"fmt"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

func Example() {
	// IAM returns documents URL-encoded; Parse takes either form.
	doc, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::assets/*"},
		{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	set := iampolicy.NewSet([]iampolicy.Policy{{Name: "inline:app", Document: doc}}, nil)
	fmt.Println(set.Decide("s3:GetObject", "arn:aws:s3:::assets/logo.png"))
	fmt.Println(set.Decide("s3:PutObject", "arn:aws:s3:::assets/logo.png"))
	fmt.Println(set.Decide("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:jobs"))
	// Output:
	// Allowed
	// NotAllowed
	// Conditional
}

func ExampleSet_Grants() {
	doc, _ := iampolicy.Parse(`{"Statement":{"Effect":"Allow","Action":"ecr:BatchGet*","Resource":"*"}}`)
	set := iampolicy.NewSet([]iampolicy.Policy{{Name: "inline:pull", Document: doc}}, nil)
	for _, g := range set.Grants(nil) {
		fmt.Println(g.Action, g.Action.Level, g.Decision, g.Resource)
	}
	// Output:
	// ecr:BatchGetImage Read Allowed *
	// ecr:BatchGetRepositoryScanningConfiguration Read Allowed *
	// ecr:BatchGet* Unknown Allowed *
}

// A task role session decides what it can: aws:username is never in its
// requests, so the policy variable matches nothing, while an ECS task's
// credentials carry aws:MultiFactorAuthPresent false, so AWS's "deny
// unless MFA" guard denies.
func ExampleRoleSession() {
	doc, _ := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::home/${aws:username}/*","arn:aws:s3:::shared/*"]},
		{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`)
	ctx := iampolicy.RoleSession("arn:aws:iam::111122223333:role/app", nil)
	set := iampolicy.NewSetIn(ctx, []iampolicy.Policy{{Name: "inline:app", Document: doc}}, nil)
	fmt.Println(set.Decide("s3:GetObject", "arn:aws:s3:::home/alice/notes.txt"))
	fmt.Println(set.Decide("s3:GetObject", "arn:aws:s3:::shared/notes.txt"))
	fmt.Println(set.Decide("s3:DeleteObject", "arn:aws:s3:::shared/notes.txt"))
	// Output:
	// NotAllowed
	// Allowed
	// NotAllowed
}

func ExampleParse_error() {
	_, err := iampolicy.Parse(`{"Statement":[{"Effect":"Allow","Action":3,"Resource":"*"}]}`)
	fmt.Println(err)
	// Output:
	// Statement[0].Action: not a string or list of strings
}
