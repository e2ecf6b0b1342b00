// Package roleuse answers, for an IAM change, which ECS task definitions use
// a role, at a cost in AWS calls that follows what is affected rather than
// the size of the account.
//
// ECS has no lookup from a role to the task definitions that name it: the
// only way to ask AWS is to list every ACTIVE revision and describe each one
// ([Scan]), one call per revision on every IAM event. [Index] keeps the
// answer in a DynamoDB table instead: one item per (role, revision), written
// by onregister for every revision it evaluates, read with one Query per
// changed role. Entries for revisions deregistered since are dropped when a
// lookup finds them INACTIVE; [Rebuild] (the scheduled sweep) adds what the
// functions never saw, such as revisions registered before ecsguard was
// deployed.
package roleuse
