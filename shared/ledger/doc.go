// Package ledger keeps one record per event in DynamoDB, so that the
// effects of an event happen exactly once although EventBridge delivers it
// at least once: a duplicate delivery, or a retry after a failure, finds
// what was already done (the revisions deregistered, the alert parts
// published) and does only the rest.
//
// A record is claimed with a conditional write and a lease, so that two
// deliveries of the same event running at once never both act: the second
// is told to retry later. Records expire through the table's TTL after
// [Retention], longer than EventBridge retries an event (24 hours) and than
// a dead-letter queue keeps it (14 days at most), so a redriven event is
// still recognised.
//
// The same table keeps the exemption approvals ([Ledger.RecordApproval],
// [Ledger.Approvals]): for each resource whose exemption tags a call set,
// who set each tag to which value. They do not expire: an approval holds
// as long as the tags keep the values it recorded.
package ledger
