// Package assess decides what one event means, as a value: one [Verdict]
// per subject the event reaches (a task definition, a secondary ECS role,
// or one of ecsguard's own resources), holding the subject's report, the
// state before the event when the event tells it, the findings the event
// brought, and what uses the subject.
//
// It answers the questions both functions ask of an event, in one place:
// which findings are open, which are new since before, whether an alert is
// needed and at which severity, and which subjects enforcement may
// deregister. It does no I/O: package guard gathers the facts and carries
// out the effects, package alert renders the assessment.
package assess
