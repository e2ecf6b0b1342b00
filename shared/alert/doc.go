// Package alert turns a [rules.Report] into the one SNS message that
// announces it.
//
// A single publish with MessageStructure=json serves every subscriber:
// queues and functions receive the report JSON unchanged ("default"), email
// receives readable text, and HTTPS endpoints receive an AWS Chatbot custom
// notification, the only shape Chatbot forwards to Slack or Microsoft Teams.
// The subject, which SNS caps below 100 characters, leads with the highest
// severity and says what enforcement did, so an inbox can be scanned without
// opening anything. The message attributes (severity, rules, account,
// region) let subscriptions filter without reading the body.
//
// An alert must not be lost for being large. A report that would exceed the
// 256 KiB SNS message limit is shrunk, the same way every time: first the
// policy statements leave the report's evidence, then the texts list fewer
// findings and say how many they left out. [Render] fails only when even the
// report without statements does not fit.
//
// A role or policy change can reach many subjects at once: [RenderChange]
// announces one IAM change in one message, naming every task definition
// and secondary role it affects, with a report for each ([ChangeDocument]
// is the machine-readable body) and, where the state before the change is
// known, the findings the change brought. It shrinks the same way, listing
// fewer findings per subject and then fewer subjects.
//
// The package does no I/O: publishing the [Message] is the caller's job.
package alert
