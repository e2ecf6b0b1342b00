// Command ecsguard checks the IAM roles of Amazon ECS task definitions.
//
// Usage:
//
//	ecsguard check --iam IAM.json [--task-definition TD.json ...] [--format text|json] [--fail-on SEVERITY]
//	ecsguard scan [--region R] [--profile P] [--endpoint-url URL] [--all-revisions] [--organization] [--accounts ID,...] [--role-name NAME] [--format text|json] [--fail-on SEVERITY]
//	ecsguard help
//
// check reads the JSON the AWS CLI writes (`aws ecs describe-task-definition
// --include TAGS` and `aws iam get-account-authorization-details`) and
// evaluates each task definition and every secondary ECS role with the same
// rules as the ecsguard Lambda functions. scan reads the same facts from a
// live account, in bulk, or from each account of an AWS Organization. Both
// exit 0 when no unsuppressed finding is at or above --fail-on, 1 when one
// is, 2 on bad input, and scan 3 when its AWS calls fail (with several
// accounts: when one of them failed).
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
