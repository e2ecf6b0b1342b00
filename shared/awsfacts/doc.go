// Package awsfacts loads the facts that package rules judges from a live
// AWS account: a task definition from ECS and its roles from IAM (trust
// policy, inline policies, attached managed policies at their default
// version, permissions boundary, tags).
//
// It is the read edge of ecsguard and holds the concrete SDK clients. A
// permanent error (access denied, a deleted role or policy) is recorded in
// [rules.Facts.Missing] and loading goes on, so that the evaluation is
// reported as incomplete instead of failing; a transient one (throttling or
// a server error that outlasted the SDK's retries, a cancelled context) is
// returned, so that the invocation fails and EventBridge retries it.
// Policy versions are immutable and cached for the life of the process.
package awsfacts
