package awsexport

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// Account is an IAM export: every role it holds, with what could not be
// resolved for each.
type Account struct {
	// Roles holds the roles by ARN.
	Roles map[string]*rules.Role
	// Missing lists, by role ARN, the facts of that role the export could
	// not provide: a managed policy or boundary not in it, a document that
	// does not parse.
	Missing map[string][]rules.FactError
	// Truncated reports a partial export (IsTruncated, or a pagination
	// token): roles and policies beyond the first page are absent.
	Truncated bool
	// Notes are problems with the export as a whole. They are not fatal,
	// but a report built on the export should show them.
	Notes []string

	byName map[string]string // role name → ARN
}

// authorizationDetails is `aws iam get-account-authorization-details`. The
// user and group lists are not read.
type authorizationDetails struct {
	RoleDetailList []roleDetail
	Policies       []policyDetail
	IsTruncated    bool
	Marker         string
	NextToken      string // the AWS CLI's own pagination token (--max-items)
}

type roleDetail struct {
	Path                     string
	RoleName                 string
	Arn                      string
	AssumeRolePolicyDocument json.RawMessage
	InstanceProfileList      []struct {
		InstanceProfileName string
		Arn                 string
	}
	RolePolicyList []struct {
		PolicyName     string
		PolicyDocument json.RawMessage
	}
	AttachedManagedPolicies []struct {
		PolicyName string
		PolicyArn  string
	}
	PermissionsBoundary *struct {
		PermissionsBoundaryType string
		PermissionsBoundaryArn  string
	}
	Tags []struct {
		Key   string
		Value string
	}
}

type policyDetail struct {
	PolicyName        string
	Arn               string
	DefaultVersionId  string
	PolicyVersionList []struct {
		Document         json.RawMessage
		VersionId        string
		IsDefaultVersion bool
	}
}

// DecodeAuthorizationDetails reads the output of
// `aws iam get-account-authorization-details`. Policy documents may be JSON
// objects (the AWS CLI decodes them) or URL-encoded strings (the raw API).
// Only a file that is not JSON or not of that shape is an error; what the
// export lacks for a role is recorded in [Account.Missing].
func DecodeAuthorizationDetails(b []byte) (*Account, error) {
	top, err := topObject(b, ErrNotAuthorizationDetails)
	if err != nil {
		return nil, err
	}
	if top["RoleDetailList"] == nil && top["Policies"] == nil && top["UserDetailList"] == nil && top["GroupDetailList"] == nil {
		return nil, fmt.Errorf(`%w: no "RoleDetailList"%s`, ErrNotAuthorizationDetails, looksLike(top))
	}
	var d authorizationDetails
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, decodeError(b, err)
	}
	a := &Account{
		Roles:   make(map[string]*rules.Role, len(d.RoleDetailList)),
		Missing: make(map[string][]rules.FactError),
		byName:  make(map[string]string, len(d.RoleDetailList)),
	}
	if d.IsTruncated || d.NextToken != "" {
		a.Truncated = true
		a.Notes = append(a.Notes, "the export is truncated (IsTruncated or a pagination token is set): roles and policies after the first page are absent; export without --max-items or --no-paginate")
	}
	policies := newPolicyIndex(d.Policies)
	for i, rd := range d.RoleDetailList {
		if rd.Arn == "" {
			a.Notes = append(a.Notes, fmt.Sprintf("RoleDetailList[%d] (%q) has no Arn: skipped", i, rd.RoleName))
			continue
		}
		r, missing := buildRole(rd, policies)
		a.Roles[r.ARN] = r
		a.byName[r.Name] = r.ARN
		if len(missing) > 0 {
			a.Missing[r.ARN] = missing
		}
	}
	return a, nil
}

// Role returns the role with the ARN (or, for a value that is not an ARN,
// the role name) and the facts of it the export could not provide. A role
// not in the export is nil, with one [rules.FactError] saying so.
func (a *Account) Role(arn string) (*rules.Role, []rules.FactError) {
	r, ok := a.Roles[arn]
	if !ok && !strings.HasPrefix(arn, "arn:") {
		r, ok = a.Roles[a.byName[arn]]
	}
	if !ok {
		err := ErrRoleNotFound
		if a.Truncated {
			err = fmt.Errorf("%w (the export is truncated)", ErrRoleNotFound)
		}
		return nil, []rules.FactError{{Subject: arn, Err: err}}
	}
	return r, slices.Clone(a.Missing[r.ARN])
}

// OtherAccountRole is [rules.OtherAccountRole].
func OtherAccountRole(roleARN, account string) (rules.FactError, bool) {
	return rules.OtherAccountRole(roleARN, account)
}

func buildRole(rd roleDetail, policies *policyIndex) (*rules.Role, []rules.FactError) {
	r := &rules.Role{ARN: rd.Arn, Name: rd.RoleName, Path: rd.Path}
	var missing []rules.FactError
	miss := func(subject string, err error) {
		missing = append(missing, rules.FactError{Subject: subject, Err: err})
	}

	if trust, err := parseDocument(rd.AssumeRolePolicyDocument); err != nil {
		miss(r.ARN, fmt.Errorf("trust policy: %w", err))
	} else {
		r.Trust = trust
	}
	for _, p := range rd.RolePolicyList {
		doc, err := parseDocument(p.PolicyDocument)
		if err != nil {
			miss(r.ARN, fmt.Errorf("inline policy %s: %w", p.PolicyName, err))
			continue
		}
		r.Policies = append(r.Policies, iampolicy.Policy{Name: "inline:" + p.PolicyName, Document: doc})
	}
	for _, p := range rd.AttachedManagedPolicies {
		r.Attached = append(r.Attached, p.PolicyArn)
		doc, err := policies.document(p.PolicyArn)
		if err != nil {
			miss(p.PolicyArn, fmt.Errorf("attached to role %s: %w", r.Name, err))
			continue
		}
		r.Policies = append(r.Policies, iampolicy.Policy{Name: p.PolicyArn, Document: doc})
	}
	if b := rd.PermissionsBoundary; b != nil && b.PermissionsBoundaryArn != "" {
		doc, err := policies.document(b.PermissionsBoundaryArn)
		if err != nil {
			miss(b.PermissionsBoundaryArn, fmt.Errorf("permissions boundary of role %s: %w", r.Name, err))
		} else {
			r.Boundary = &iampolicy.Policy{Name: b.PermissionsBoundaryArn, Document: doc}
		}
	}
	// The export lists a role's tags; none listed is none, which decides
	// aws:PrincipalTag conditions.
	r.Tags = make(map[string]string, len(rd.Tags))
	for _, t := range rd.Tags {
		r.Tags[t.Key] = t.Value
	}
	for _, ip := range rd.InstanceProfileList {
		r.Uses = append(r.Uses, rules.Use{Kind: rules.UseInstanceProfile, Resource: cmp.Or(ip.Arn, ip.InstanceProfileName)})
	}
	// The role carries its own gaps, so that a rule judging it knows they
	// are there; a copy, as Account.Missing is appended to.
	r.Missing = slices.Clone(missing)
	return r, missing
}

// policyIndex finds managed policies by ARN and parses the default version
// of each at most once: an unfiltered export holds every AWS managed policy,
// and only the attached ones are worth parsing.
type policyIndex struct {
	byARN  map[string]*policyDetail
	parsed map[string]parsedPolicy
}

type parsedPolicy struct {
	doc *iampolicy.Document
	err error
}

func newPolicyIndex(list []policyDetail) *policyIndex {
	ix := &policyIndex{byARN: make(map[string]*policyDetail, len(list)), parsed: make(map[string]parsedPolicy)}
	for i := range list {
		ix.byARN[list[i].Arn] = &list[i]
	}
	return ix
}

func (ix *policyIndex) document(arn string) (*iampolicy.Document, error) {
	if p, ok := ix.parsed[arn]; ok {
		return p.doc, p.err
	}
	doc, err := ix.parse(arn)
	ix.parsed[arn] = parsedPolicy{doc, err}
	return doc, err
}

func (ix *policyIndex) parse(arn string) (*iampolicy.Document, error) {
	p, ok := ix.byARN[arn]
	if !ok {
		return nil, ErrPolicyNotFound
	}
	for _, v := range p.PolicyVersionList {
		if v.IsDefaultVersion || (p.DefaultVersionId != "" && v.VersionId == p.DefaultVersionId) {
			doc, err := parseDocument(v.Document)
			if err != nil {
				return nil, fmt.Errorf("default version %s: %w", v.VersionId, err)
			}
			return doc, nil
		}
	}
	return nil, ErrNoDefaultVersion
}

// parseDocument reads a policy document as the export holds it: a JSON
// object (the AWS CLI decodes documents) or a string, URL-encoded as the
// IAM API returns it.
func parseDocument(raw json.RawMessage) (*iampolicy.Document, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, ErrNoDocument
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, err
		}
	}
	return iampolicy.Parse(text)
}
