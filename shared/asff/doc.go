// Package asff turns ecsguard's reports into findings of the AWS Security
// Finding Format (ASFF), the format Security Hub imports with
// BatchImportFindings (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html).
//
// A finding is known by its Id: the subject's ARN and the rule (and the
// resource the finding names, when it is not the subject), so a later
// evaluation of the same subject updates the same finding instead of adding
// one. [Plan] compares an evaluation with the findings the previous one left
// active and says what to send: the findings raised, and the ones that are
// gone, resolved. Resolution and exemption both archive a finding
// (RecordState ARCHIVED), the one attribute of the pair a finding provider
// may still change after the finding exists: Security Hub keeps the
// Workflow its users set and takes the provider's Workflow only when it
// creates the finding (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html).
// A finding that comes back after it was archived is sent ACTIVE again, and
// Security Hub resets its workflow to NEW
// (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_WorkflowUpdate.html).
//
// An incomplete report resolves nothing: what it could not read is not
// evidence that a finding went away. Its ECSG-001 finding is imported like
// any other, and the findings it could not judge stay as they were.
//
// The package does no I/O: sending the findings is shared/securityhub's
// job, printing them the CLI's.
package asff
