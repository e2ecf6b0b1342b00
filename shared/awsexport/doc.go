// Package awsexport reads the JSON files the AWS CLI writes, so ecsguard can
// check an account offline from exports instead of live API calls.
//
// [DecodeTaskDefinition] reads the output of
// `aws ecs describe-task-definition --include TAGS` (or a bare task
// definition object) into a [rules.TaskDefinition]. [DecodeAuthorizationDetails]
// reads the output of `aws iam get-account-authorization-details` into an
// [Account]: every role with its trust policy, inline policies, the default
// versions of its attached managed policies and its permissions boundary,
// parsed by [iampolicy.Parse]. Policy documents may be JSON objects, as the
// AWS CLI prints them, or URL-encoded strings, as the IAM API returns them.
//
// A file of the wrong shape or with a JSON syntax error is an error (with a
// line and column for syntax errors). What an export lacks for one role (a
// managed policy not in the export, a document that does not parse, a role
// not in the export at all) is not: [Account.Role] returns it as
// [rules.FactError] values, so the rules can report the role as incomplete.
//
// The package is pure: bytes in, values out, no file I/O and no AWS calls.
package awsexport
