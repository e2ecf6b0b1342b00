package awsfacts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// Loader reads facts from ECS and IAM. Build it once per process and reuse
// it: its cache of policy versions is what makes warm invocations cheap. It
// is safe for concurrent use.
type Loader struct {
	ecs      *ecs.Client
	iam      *iam.Client
	versions *versionCache
	// PageSize, when not 0, is the MaxItems of IAM list calls (the service
	// default otherwise); tests set it to exercise pagination.
	PageSize int32
}

// New returns a Loader over the two clients.
func New(ecsClient *ecs.Client, iamClient *iam.Client) *Loader {
	return &Loader{ecs: ecsClient, iam: iamClient, versions: newVersionCache()}
}

// With is a Loader over other clients (another account's) that shares
// this one's cache of policy documents: AWS managed policies read in one
// account serve every account, and customer policies are cached by their
// ARN, which names their account.
func (l *Loader) With(ecsClient *ecs.Client, iamClient *iam.Client) *Loader {
	return &Loader{ecs: ecsClient, iam: iamClient, versions: l.versions, PageSize: l.PageSize}
}

// TaskDefinitionFacts loads the task definition arn (with its tags) and its
// task and execution roles. Facts that cannot be read for a permanent
// reason are listed in Facts.Missing; the error is non-nil only for a
// transient failure. Account and region are taken from the ARN.
func (l *Loader) TaskDefinitionFacts(ctx context.Context, arn string) (rules.Facts, error) {
	return l.TaskDefinitionFactsWith(ctx, arn, nil)
}

// Roles holds roles already loaded in one invocation, by lower-cased name,
// so that revisions sharing a role read it once. Only roles read whole are
// kept: one with a fact missing is read again, and reported again.
type Roles map[string]*rules.Role

// TaskDefinitionFactsWith is [Loader.TaskDefinitionFacts] taking the roles
// it needs from known, and adding to it those it reads.
func (l *Loader) TaskDefinitionFactsWith(ctx context.Context, arn string, known Roles) (rules.Facts, error) {
	d, err := l.Describe(ctx, arn)
	if err != nil {
		return rules.Facts{}, err
	}
	return l.FactsOf(ctx, d, known)
}

// Described is a task definition as DescribeTaskDefinition returned it, or
// the error that kept it from being read for good.
type Described struct {
	ARN            string
	TaskDefinition *rules.TaskDefinition // nil when it could not be read
	Err            error                 // the permanent error, when it could not be
}

// Describe reads a task definition with its tags. A permanent failure
// (access denied, no such revision) is in Described.Err; a transient one
// is returned. It is safe to call concurrently.
func (l *Loader) Describe(ctx context.Context, arn string) (Described, error) {
	out, err := l.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(arn),
		Include:        []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	}, InRegionOf(arn))
	if err != nil {
		if !Permanent(err) {
			return Described{}, fmt.Errorf("task definition %s: %w", arn, err)
		}
		return Described{ARN: arn, Err: err}, nil
	}
	td := taskDefinition(out.TaskDefinition, out.Tags)
	if td.ARN == "" {
		td.ARN = arn
	}
	return Described{ARN: arn, TaskDefinition: td}, nil
}

// FactsOf loads the roles of a described task definition, taking those it
// can from known and adding to it those it reads.
func (l *Loader) FactsOf(ctx context.Context, d Described, known Roles) (rules.Facts, error) {
	arn := d.ARN
	account, region := accountRegion(arn)
	if d.TaskDefinition == nil {
		return rules.Facts{Account: account, Region: region, Roles: map[string]*rules.Role{},
			TaskDefinition: &rules.TaskDefinition{ARN: arn},
			Missing:        []rules.FactError{{Subject: arn, Err: d.Err}}}, nil
	}
	f, err := rules.Assemble(ctx, d.TaskDefinition, knownRoles{l, known})
	f.Account, f.Region = cmpOr(f.Account, account), cmpOr(f.Region, region)
	return f, err
}

// knownRoles reads roles through the loader, once each per invocation.
type knownRoles struct {
	l     *Loader
	known Roles
}

func (k knownRoles) Role(ctx context.Context, ref string) (*rules.Role, []rules.FactError, error) {
	if r := k.known.get(roleName(ref)); r != nil {
		return r, nil, nil
	}
	role, missing, err := k.l.Role(ctx, ref)
	if err == nil {
		k.known.Put(role, missing)
	}
	return role, missing, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// InRegionOf sends an ECS call to the region of the resource arn names: a
// deployment in one region receives the events of the others, forwarded to
// its bus. A name without a region keeps the client's.
func InRegionOf(arn string) func(*ecs.Options) {
	_, region := accountRegion(arn)
	return func(o *ecs.Options) {
		if region != "" {
			o.Region = region
		}
	}
}

// Role loads a role by ARN or name: trust policy, inline policies, attached
// managed policies at their default version, permissions boundary, tags.
// When the role itself cannot be read, role is nil and missing says why;
// when one of its policies cannot be, the role is returned without it and
// missing names the policy.
func (l *Loader) Role(ctx context.Context, arnOrName string) (role *rules.Role, missing []rules.FactError, err error) {
	name := roleName(arnOrName)
	got, err := l.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		if Permanent(err) {
			return nil, []rules.FactError{{Subject: arnOrName, Err: err}}, nil
		}
		return nil, nil, fmt.Errorf("role %s: %w", name, err)
	}
	r := got.Role
	role = &rules.Role{
		ARN:  aws.ToString(r.Arn),
		Name: aws.ToString(r.RoleName),
		Path: aws.ToString(r.Path),
		Tags: map[string]string{},
	}
	for _, t := range r.Tags {
		role.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if doc, perr := iampolicy.Parse(aws.ToString(r.AssumeRolePolicyDocument)); perr != nil {
		missing = append(missing, rules.FactError{Subject: role.ARN, Err: fmt.Errorf("trust policy: %w", perr)})
	} else {
		role.Trust = doc
	}
	// The ARN the task definition gave may differ in case or path from the
	// one IAM returns; the rules look roles up by the task definition's.
	if strings.HasPrefix(arnOrName, "arn:") {
		role.ARN = arnOrName
	}

	inline, m, err := l.inlinePolicies(ctx, name, role.ARN)
	if err != nil {
		return nil, nil, err
	}
	missing = append(missing, m...)
	role.Policies = append(role.Policies, inline...)

	attached, m, err := l.attachedPolicies(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	missing = append(missing, m...)
	for _, a := range attached {
		role.Attached = append(role.Attached, a.Name)
		if a.Document != nil {
			role.Policies = append(role.Policies, a)
		}
	}

	if b := r.PermissionsBoundary; b != nil && b.PermissionsBoundaryArn != nil {
		p, ferr, err := l.managedPolicy(ctx, aws.ToString(b.PermissionsBoundaryArn))
		switch {
		case err != nil:
			return nil, nil, err
		case ferr != nil:
			// An unreadable boundary cannot be left out: without it the
			// role would look more powerful than it is, or less.
			missing = append(missing, *ferr)
		default:
			role.Boundary = &p
		}
	}
	// The role carries its own gaps, so that the rules judging it see them
	// (a copy: callers append to missing).
	role.Missing = slices.Clone(missing)
	return role, missing, nil
}

func (l *Loader) inlinePolicies(ctx context.Context, name, roleARN string) ([]iampolicy.Policy, []rules.FactError, error) {
	var out []iampolicy.Policy
	var missing []rules.FactError
	pages := iam.NewListRolePoliciesPaginator(l.iam, &iam.ListRolePoliciesInput{RoleName: aws.String(name), MaxItems: l.maxItems()})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if Permanent(err) {
				return out, append(missing, rules.FactError{Subject: roleARN, Err: fmt.Errorf("inline policies: %w", err)}), nil
			}
			return nil, nil, fmt.Errorf("role %s: %w", name, err)
		}
		for _, pn := range page.PolicyNames {
			got, err := l.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				if Permanent(err) {
					missing = append(missing, rules.FactError{Subject: roleARN, Err: fmt.Errorf("inline policy %s: %w", pn, err)})
					continue
				}
				return nil, nil, fmt.Errorf("role %s: %w", name, err)
			}
			doc, perr := iampolicy.Parse(aws.ToString(got.PolicyDocument))
			if perr != nil {
				missing = append(missing, rules.FactError{Subject: roleARN, Err: fmt.Errorf("inline policy %s: %w", pn, perr)})
				continue
			}
			out = append(out, iampolicy.Policy{Name: "inline:" + pn, Document: doc})
		}
	}
	return out, missing, nil
}

// attachedPolicies returns one Policy per attached policy, named by ARN;
// Document is nil for one that could not be read (and missing says why).
func (l *Loader) attachedPolicies(ctx context.Context, name string) ([]iampolicy.Policy, []rules.FactError, error) {
	var out []iampolicy.Policy
	var missing []rules.FactError
	pages := iam.NewListAttachedRolePoliciesPaginator(l.iam, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name), MaxItems: l.maxItems()})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if Permanent(err) {
				return out, append(missing, rules.FactError{Subject: name, Err: fmt.Errorf("attached policies: %w", err)}), nil
			}
			return nil, nil, fmt.Errorf("role %s: %w", name, err)
		}
		for _, a := range page.AttachedPolicies {
			arn := aws.ToString(a.PolicyArn)
			p, ferr, err := l.managedPolicy(ctx, arn)
			if err != nil {
				return nil, nil, err
			}
			if ferr != nil {
				missing = append(missing, *ferr)
				p = iampolicy.Policy{Name: arn}
			}
			out = append(out, p)
		}
	}
	return out, missing, nil
}

// managedPolicy reads the default version of a managed policy: GetPolicy
// for the version id (AWS-managed ones are remembered for a while), then
// the version itself, which never changes and is cached.
func (l *Loader) managedPolicy(ctx context.Context, arn string) (iampolicy.Policy, *rules.FactError, error) {
	// A customer policy deleted and created again keeps its ARN and starts
	// over at v1: its id, which changes, is part of the cache key.
	version, ok := l.versions.defaultVersion(arn)
	key := arn
	if !ok {
		got, err := l.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
		if err != nil {
			if Permanent(err) {
				return iampolicy.Policy{}, &rules.FactError{Subject: arn, Err: err}, nil
			}
			return iampolicy.Policy{}, nil, fmt.Errorf("policy %s: %w", arn, err)
		}
		version = aws.ToString(got.Policy.DefaultVersionId)
		l.versions.setDefaultVersion(arn, version)
		if !awsManaged(arn) {
			key = arn + "#" + aws.ToString(got.Policy.PolicyId)
		}
	}
	if doc, ok := l.versions.document(key, version); ok {
		return iampolicy.Policy{Name: arn, Document: doc}, nil, nil
	}
	got, err := l.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)})
	if err != nil {
		if Permanent(err) {
			return iampolicy.Policy{}, &rules.FactError{Subject: arn, Err: fmt.Errorf("version %s: %w", version, err)}, nil
		}
		return iampolicy.Policy{}, nil, fmt.Errorf("policy %s: %w", arn, err)
	}
	doc, perr := iampolicy.Parse(aws.ToString(got.PolicyVersion.Document))
	if perr != nil {
		return iampolicy.Policy{}, &rules.FactError{Subject: arn, Err: fmt.Errorf("version %s: %w", version, perr)}, nil
	}
	l.versions.setDocument(key, version, doc)
	return iampolicy.Policy{Name: arn, Document: doc}, nil, nil
}

func (l *Loader) maxItems() *int32 {
	if l.PageSize == 0 {
		return nil
	}
	return aws.Int32(l.PageSize)
}

// roleName takes the name from a role ARN (arn:aws:iam::1:role/path/name).
func roleName(arnOrName string) string {
	if !strings.HasPrefix(arnOrName, "arn:") {
		return arnOrName
	}
	return arnOrName[strings.LastIndexByte(arnOrName, '/')+1:]
}

func accountRegion(arn string) (account, region string) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) < 6 {
		return "", ""
	}
	return p[4], p[3]
}

// PolicyRoles returns the names of the roles a managed policy is attached
// to (ListEntitiesForPolicy, every page): what a change to the policy
// itself reaches.
func (l *Loader) PolicyRoles(ctx context.Context, policyARN string) ([]string, error) {
	var out []string
	pages := iam.NewListEntitiesForPolicyPaginator(l.iam, &iam.ListEntitiesForPolicyInput{
		PolicyArn: aws.String(policyARN), EntityFilter: iamtypes.EntityTypeRole, MaxItems: l.maxItems(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("roles of policy %s: %w", policyARN, err)
		}
		for _, r := range page.PolicyRoles {
			out = append(out, aws.ToString(r.RoleName))
		}
	}
	return out, nil
}

func (k Roles) get(name string) *rules.Role {
	if k == nil {
		return nil
	}
	return k[strings.ToLower(name)]
}

// Put keeps a role read whole (missing empty).
func (k Roles) Put(r *rules.Role, missing []rules.FactError) {
	if k != nil && r != nil && len(missing) == 0 {
		k[strings.ToLower(r.Name)] = r
	}
}
