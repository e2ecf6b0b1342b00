// Package trail decides what an EventBridge "AWS API Call via CloudTrail"
// event changed, so ecsguard knows what to re-evaluate: [Parse] turns an ECS
// RegisterTaskDefinition event into the ARN of the registered revision, an
// ECS TagResource that sets an exemption tag on a revision into that
// revision, and an IAM role or policy event (the list in [IAMEventNames])
// into the role name, policy ARN or policy name it touched, with the event's
// id, account, region, the actor that made the call ([Change.CausedBy] is
// the loop guard) and the tags the call set ([Change.Tags]: who set an
// exemption). Every event it cannot use is an [*Error] naming the event and
// wrapping one reason: [ErrMalformed], [ErrForeign] or [ErrFailedCall]. The
// package is pure: it reads only the event value, does no I/O and calls no
// AWS API; loading the live state the change points to is the caller's job.
package trail
