package cfntemplate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/managedpolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

type builder struct {
	r         *resolver
	t         *Template
	ids       []string // logical IDs, sorted
	positions map[string]Position
	// managed holds the template's AWS::IAM::ManagedPolicy resources by ARN.
	managed map[string]managedDoc
}

type managedDoc struct {
	doc *iampolicy.Document
	err error
}

func (b *builder) ofType(typ string) []string {
	var out []string
	for _, id := range b.ids {
		if typeOf(b.r.resources[id]) == typ {
			out = append(out, id)
		}
	}
	return out
}

// document resolves and parses a policy document. A document with any
// value the template does not decide is not used at all: a statement with
// a resource left out would grant less, or more, than the deployed one.
func (b *builder) document(v any) (*iampolicy.Document, error) {
	if v == nil {
		return nil, fmt.Errorf("no policy document")
	}
	x, err := b.r.value(v)
	if err != nil {
		return nil, err
	}
	if s, ok := x.(string); ok {
		return iampolicy.Parse(s)
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	return iampolicy.Parse(string(raw))
}

// roles builds the AWS::IAM::Role resources, then attaches the policies
// defined beside them.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
func (b *builder) roles() {
	b.managed = map[string]managedDoc{}
	for _, id := range b.ofType("AWS::IAM::ManagedPolicy") {
		ref, err := b.r.resourceRef(id, map[string]any{"Ref": id})
		if err != nil {
			continue // an ARN that cannot be known cannot be attached by ARN either
		}
		doc, err := b.document(properties(b.r.resources[id])["PolicyDocument"])
		if err != nil {
			err = fmt.Errorf("managed policy %s: PolicyDocument: %w", id, err)
		}
		b.managed[ref.(string)] = managedDoc{doc, err}
	}
	for _, id := range b.ofType("AWS::IAM::Role") {
		b.role(id)
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"} {
		for _, id := range b.ofType(typ) {
			b.attach(id, typ)
		}
	}
}

func (b *builder) role(id string) {
	props := properties(b.r.resources[id])
	role := &rules.Role{Tags: map[string]string{}}
	miss := func(err error) { role.Missing = append(role.Missing, rules.FactError{Subject: role.ARN, Err: err}) }
	arn, err := b.r.resourceAtt(id, "Arn", map[string]any{"Fn::GetAtt": []any{id, "Arn"}})
	var nameErr error
	if err != nil {
		// The name or path cannot be resolved: the role keeps a
		// placeholder ARN and is incomplete.
		nameErr = fmt.Errorf("role %s: %w", id, err)
		arn = "arn:" + b.r.opts.Partition + ":iam::" + b.r.opts.Account + ":role/unresolved/" + id
	}
	role.ARN = arn.(string)
	role.Name = role.ARN[strings.LastIndexByte(role.ARN, '/')+1:]
	role.Path = strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(role.ARN, ":", 6)[5], "role"), role.Name)
	if nameErr != nil {
		miss(nameErr)
	}
	if cond, ok := b.r.resources[id]["Condition"].(string); ok {
		miss(fmt.Errorf("role %s: created only when condition %s holds, decided at deployment", id, cond))
	}
	if doc, err := b.document(props["AssumeRolePolicyDocument"]); err != nil {
		miss(fmt.Errorf("role %s: trust policy: %w", id, err))
	} else {
		role.Trust = doc
	}
	if v, ok := props["Policies"]; ok {
		list, _ := v.([]any)
		if list == nil {
			miss(fmt.Errorf("role %s: Policies: %w", id, unresolved(v, "not a list of policies")))
		}
		for i, p := range list {
			m, _ := p.(map[string]any)
			name, err := b.r.str(m["PolicyName"])
			if err != nil {
				name = fmt.Sprintf("Policies[%d]", i)
			}
			if _, _, ok := intrinsic(p); ok || m == nil {
				miss(fmt.Errorf("role %s: Policies[%d]: %w", id, i, unresolved(p, "a policy that depends on an expression")))
				continue
			}
			doc, err := b.document(m["PolicyDocument"])
			if err != nil {
				miss(fmt.Errorf("role %s: inline policy %s: %w", id, name, err))
				continue
			}
			role.Policies = append(role.Policies, iampolicy.Policy{Name: "inline:" + name, Document: doc})
		}
	}
	if v, ok := props["ManagedPolicyArns"]; ok {
		arns, err := b.r.strings(v)
		if err != nil {
			miss(fmt.Errorf("role %s: ManagedPolicyArns: %w", id, err))
		}
		for _, a := range arns {
			b.attachManaged(role, a)
		}
	}
	if v, ok := props["PermissionsBoundary"]; ok {
		a, err := b.r.str(v)
		if err != nil {
			miss(fmt.Errorf("role %s: PermissionsBoundary: %w", id, err))
		} else if doc, err := b.managedDocument(a); err != nil {
			role.Missing = append(role.Missing, rules.FactError{Subject: a, Err: fmt.Errorf("permissions boundary of role %s: %w", role.Name, err)})
		} else {
			role.Boundary = &iampolicy.Policy{Name: a, Document: doc}
		}
	}
	if v, ok := props["Tags"]; ok {
		tags, err := b.tags(v)
		if err != nil {
			miss(fmt.Errorf("role %s: Tags: %w", id, err))
		}
		role.Tags = tags
	}
	b.t.Roles[role.ARN] = role
	b.t.byName[strings.ToLower(role.Name)] = role.ARN
	b.t.Positions[role.ARN] = b.positions[id]
}

// attachManaged adds a managed policy by ARN: one of the template's, or an
// AWS managed policy of the snapshot. Any other is missing: a customer
// managed policy of the account is not in the template.
func (b *builder) attachManaged(role *rules.Role, arn string) {
	role.Attached = append(role.Attached, arn)
	doc, err := b.managedDocument(arn)
	if err != nil {
		role.Missing = append(role.Missing, rules.FactError{Subject: arn, Err: fmt.Errorf("attached to role %s: %w", role.Name, err)})
		return
	}
	role.Policies = append(role.Policies, iampolicy.Policy{Name: arn, Document: doc})
}

func (b *builder) managedDocument(arn string) (*iampolicy.Document, error) {
	if m, ok := b.managed[arn]; ok {
		return m.doc, m.err
	}
	if managedpolicy.IsAWSManaged(arn) {
		p, err := managedpolicy.Lookup(arn)
		if err != nil {
			return nil, err
		}
		return p.Document, nil
	}
	return nil, fmt.Errorf("managed policy not defined in the template: its permissions are unknown")
}

// attach adds a policy resource to the template's roles it names.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-rolepolicy.html
func (b *builder) attach(id, typ string) {
	props := properties(b.r.resources[id])
	var names []string
	var err error
	if typ == "AWS::IAM::RolePolicy" {
		var n string
		n, err = b.r.str(props["RoleName"])
		names = []string{n}
	} else if v, ok := props["Roles"]; ok {
		names, err = b.r.strings(v)
	}
	if err != nil {
		// Which roles it is attached to is not known: any of the
		// template's roles may have it.
		for _, role := range b.t.Roles {
			role.Missing = append(role.Missing, rules.FactError{Subject: role.ARN, Err: fmt.Errorf("%s %s: its roles: %w", typ, id, err)})
		}
		return
	}
	for _, n := range names {
		role := b.t.Roles[b.t.byName[strings.ToLower(n)]]
		if role == nil {
			continue // a role of the account, not judged here
		}
		if cond, ok := b.r.resources[id]["Condition"].(string); ok {
			role.Missing = append(role.Missing, rules.FactError{Subject: role.ARN,
				Err: fmt.Errorf("%s %s is created only when condition %s holds, decided at deployment", typ, id, cond)})
			continue
		}
		if typ == "AWS::IAM::ManagedPolicy" {
			ref, err := b.r.resourceRef(id, map[string]any{"Ref": id})
			if err != nil {
				role.Missing = append(role.Missing, rules.FactError{Subject: role.ARN, Err: fmt.Errorf("managed policy %s: %w", id, err)})
				continue
			}
			b.attachManaged(role, ref.(string))
			continue
		}
		name, err := b.r.str(props["PolicyName"])
		if err != nil {
			name = id
		}
		doc, err := b.document(props["PolicyDocument"])
		if err != nil {
			role.Missing = append(role.Missing, rules.FactError{Subject: role.ARN, Err: fmt.Errorf("policy %s (%s): %w", name, id, err)})
			continue
		}
		role.Policies = append(role.Policies, iampolicy.Policy{Name: "inline:" + name, Document: doc})
	}
}

// tags resolves a list of {Key, Value}.
func (b *builder) tags(v any) (map[string]string, error) {
	x, err := b.r.value(v)
	if err != nil {
		return map[string]string{}, err
	}
	out := map[string]string{}
	list, _ := x.([]any)
	for _, it := range list {
		m, _ := it.(map[string]any)
		k, _ := m["Key"].(string)
		val, _ := m["Value"].(string)
		if k != "" {
			out[k] = val
		}
	}
	return out, nil
}
