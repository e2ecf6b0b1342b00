package cfntemplate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// ErrRoleOutside is why a role a task definition references is not
// judged: the template does not define it.
var ErrRoleOutside = errors.New("role not defined in the template: its policies are unknown")

// Position is where a resource is written: the line and column (1-based)
// of its logical ID.
type Position struct {
	LogicalID    string
	Line, Column int
}

// Template is what a template holds for the rules.
type Template struct {
	// Options are the placeholders it was resolved with.
	Options Options
	// TaskDefinitions are its AWS::ECS::TaskDefinition resources, in logical
	// ID order, each as the first revision of its family.
	TaskDefinitions []*rules.TaskDefinition
	// Roles are its AWS::IAM::Role resources by ARN, with their inline
	// policies (Policies, AWS::IAM::Policy, AWS::IAM::RolePolicy), managed
	// policies (ManagedPolicyArns, AWS::IAM::ManagedPolicy) and boundary.
	Roles map[string]*rules.Role
	// Positions are where each task definition and role is written, by the
	// ARN it is given.
	Positions map[string]Position
	// Missing lists, by task definition ARN, its values that could not be
	// resolved.
	Missing map[string][]rules.FactError

	byName     map[string]string          // lower-case role name → ARN
	unresolved map[string]rules.FactError // placeholder role ARN → why
}

// Role reads a role of the template by ARN or name ([rules.RoleSource]). A
// role the template does not define is nil, with an [ErrRoleOutside]
// error; an unresolved role reference, with the error that says why.
func (t *Template) Role(_ context.Context, ref string) (*rules.Role, []rules.FactError, error) {
	if fe, ok := t.unresolved[ref]; ok {
		return nil, []rules.FactError{fe}, nil
	}
	r, ok := t.Roles[ref]
	if !ok && !strings.HasPrefix(ref, "arn:") {
		r, ok = t.Roles[t.byName[strings.ToLower(ref)]]
	}
	if !ok {
		return nil, []rules.FactError{{Subject: ref, Err: ErrRoleOutside}}, nil
	}
	return r, slices.Clone(r.Missing), nil
}

// Facts assembles the facts of one of the template's task definitions
// ([rules.Assemble]): its roles from the template, or, for a role the
// template does not define, from outside when it is set (such as an IAM
// export of the account the template is deployed to). Values of the task
// definition that could not be resolved are among the facts' Missing.
func (t *Template) Facts(ctx context.Context, td *rules.TaskDefinition, outside rules.RoleSource) (rules.Facts, error) {
	f, err := rules.Assemble(ctx, td, withOutside{t, outside})
	f.Missing = append(f.Missing, t.Missing[td.ARN]...)
	return f, err
}

type withOutside struct {
	t       *Template
	outside rules.RoleSource
}

func (w withOutside) Role(ctx context.Context, ref string) (*rules.Role, []rules.FactError, error) {
	r, missing, err := w.t.Role(ctx, ref)
	if r == nil && w.outside != nil && len(missing) == 1 && errors.Is(missing[0].Err, ErrRoleOutside) {
		return w.outside.Role(ctx, ref)
	}
	return r, missing, err
}

// Parse reads a template and builds its facts. Only a file that is not a
// template is an error; what cannot be resolved is recorded in the
// Template.
func Parse(b []byte, opts Options) (*Template, error) {
	doc, err := parseDocument(b)
	if err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	r := &resolver{opts: opts, resources: map[string]map[string]any{}}
	res, ok := doc.root["Resources"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: Resources is not a map", ErrSyntax)
	}
	for id, v := range res {
		m, ok := v.(map[string]any)
		if !ok {
			p := doc.positions[id]
			return nil, fmt.Errorf("%w: line %d col %d: resource %s is not a map", ErrSyntax, p.Line, p.Column, id)
		}
		r.resources[id] = m
	}
	r.parameters, _ = doc.root["Parameters"].(map[string]any)
	r.mappings, _ = doc.root["Mappings"].(map[string]any)

	t := &Template{
		Options:    opts,
		Roles:      map[string]*rules.Role{},
		Positions:  map[string]Position{},
		Missing:    map[string][]rules.FactError{},
		byName:     map[string]string{},
		unresolved: map[string]rules.FactError{},
	}
	ids := slices.Sorted(maps.Keys(r.resources))
	b2 := &builder{r: r, t: t, ids: ids, positions: doc.positions}
	b2.roles()
	for _, id := range ids {
		if typeOf(r.resources[id]) == "AWS::ECS::TaskDefinition" {
			b2.taskDefinition(id)
		}
	}
	return t, nil
}
