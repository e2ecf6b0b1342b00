// Package securityhub imports ecsguard's findings into AWS Security Hub
// with BatchImportFindings, and keeps, per subject, which findings it left
// active, so that the next evaluation can resolve the ones that went away.
//
// Security Hub is asked for nothing but BatchImportFindings: what was
// imported is remembered in the functions' event ledger table (one small
// item per subject, read with BatchGetItem and written with UpdateItem, the
// calls the functions already make on it), not read back with GetFindings.
// The partner guide asks a provider to keep that state itself
// (https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html).
//
// The findings themselves are built by the pure package shared/asff.
package securityhub
