// Package alert turns the [assess.Assessment] of one event into the SNS
// messages that announce it.
//
// One renderer serves every event: a registration, a role or policy
// change, tampering with ecsguard's own resources. A single report is the
// case of one subject. A single publish with MessageStructure=json serves
// every subscriber: queues and functions receive the machine-readable
// document ("default": the finding report for a registration, a
// [ChangeDocument] otherwise), email receives readable text, and HTTPS
// endpoints receive an AWS Chatbot custom notification, the only shape
// Chatbot forwards to Slack or Microsoft Teams. The subject, which SNS
// caps below 100 characters, leads with the severity of what the event
// brought and says what enforcement did, so an inbox can be scanned
// without opening anything. The message attributes (severity, rules,
// account, region, event, part) let subscriptions filter without reading
// the body.
//
// An alert is never lost for being large, whatever the fan-out. A message
// that would exceed the 256 KiB SNS limit is shrunk, the same way every
// time: first the policy statements leave the reports, then the texts list
// fewer findings and say how many they left out. When that is not enough,
// the subjects are split over several messages, each complete and
// numbered, every subject in exactly one; a subject whose report alone is
// too large gets a message of its own with its report cut and counted.
// The same assessment always renders the same messages, byte for byte, so
// the caller can publish each exactly once across retries.
//
// The package does no I/O: publishing the [Message] values is the caller's
// job.
package alert
