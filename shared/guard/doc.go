// Package guard is what both ecsguard Lambda functions run: it parses the
// event, loads the facts, evaluates them, publishes the alert and, in
// enforce mode, deregisters the task definition revision.
//
// It is the only package that writes to AWS (sns:Publish and
// ecs:DeregisterTaskDefinition). Its handlers return an error only when the
// invocation must fail so that EventBridge retries it and the dead-letter
// queue keeps it: a transient AWS error, or an alert that could not be
// published. Malformed, failed-call and foreign events, and events caused by
// ecsguard itself, are logged and dropped.
package guard
