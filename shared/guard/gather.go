package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ecsguard/ecsguard/shared/accounts"
	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// gather loads the facts of every subject the event reaches. A permanent
// failure to read a fact makes that subject's report incomplete; only a
// transient one is returned, to be retried. notes say what could not be
// done without holding the alert back.
func (h *Handler) gather(ctx context.Context, ev *assess.Event, ch trail.Change, rec *ledger.Record) (subjects []assess.Subject, notes []string, err error) {
	switch ev.Kind {
	case assess.Registration:
		return h.gatherRegistration(ctx, ch, rec)
	case assess.RoleChange:
		return h.gatherRoleChange(ctx, ev, ch, rec)
	}
	return []assess.Subject{{Facts: rules.Facts{
		Account: ch.Account, Region: ch.Region, Tampered: &rules.Tampered{Resource: ev.Resource, Change: ch.EventName},
	}}}, nil, nil
}

// gatherRegistration loads the registered revision and its roles, records
// it in the role index, and reads from the index the families that share
// its task role (TD-013). The index never holds the alert back: when it
// cannot be written or read, the alert says so.
func (h *Handler) gatherRegistration(ctx context.Context, ch trail.Change, rec *ledger.Record) ([]assess.Subject, []string, error) {
	account := cmpOr(arnAccount(ch.TaskDefinitionARN), ch.Account)
	rd, err := h.in(ctx, account)
	if unreachable(err) {
		return []assess.Subject{cannotRead(ch, rules.SubjectTaskDefinition, ch.TaskDefinitionARN, err)}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := rd.Facts.TaskDefinitionFacts(ctx, ch.TaskDefinitionARN)
	if err != nil {
		return nil, nil, err
	}
	f.Account, f.Region = cmpOr(f.Account, ch.Account), cmpOr(f.Region, ch.Region)
	s := assess.Subject{Facts: f}
	td := f.TaskDefinition
	var notes []string
	if h.Index != nil && td.Status == "ACTIVE" {
		if err := h.Index.Record(ctx, td); err != nil {
			notes = append(notes, "the role index was not updated, so role changes may miss this revision until the next sweep: "+err.Error())
		}
		if td.TaskRoleARN != "" {
			if fam, err := h.Index.Families(ctx, account, td.TaskRoleARN); err != nil {
				notes = append(notes, "the role index could not be read, so TD-013 (a task role shared by families) was not judged: "+err.Error())
			} else {
				s.Facts.Families = map[string][]string{td.TaskRoleARN: fam}
			}
		}
	}
	s.Action, s.Inactive = earlier(rec, td.ARN, td.Status)
	return []assess.Subject{s}, notes, nil
}

// earlier is what a revision's state says of enforcement before this
// delivery: INACTIVE already, by someone else. A revision an earlier
// delivery of the same event deregistered is judged as if still ACTIVE:
// enforcement reports it as this delivery would have, so the alert is the
// one the earlier delivery rendered.
func earlier(rec *ledger.Record, arn, status string) (rules.Action, bool) {
	if status == "INACTIVE" && !rec.HasDeregistered(arn) {
		return rules.Action{Type: rules.ActionNone, Reason: "the revision is already INACTIVE"}, true
	}
	return rules.Action{}, false
}

// gatherRoleChange finds the roles the change reached, judges each as a
// secondary role when it is one, and the ACTIVE revisions that use it
// (from the index, or the scan when the index cannot be read), with the
// state before the change when the event tells it. Revisions an earlier
// delivery of the event deregistered are judged again and reported.
func (h *Handler) gatherRoleChange(ctx context.Context, ev *assess.Event, ch trail.Change, rec *ledger.Record) ([]assess.Subject, []string, error) {
	rd, err := h.in(ctx, ch.Account)
	if unreachable(err) {
		subject, arn := rules.SubjectRole, roleARN(ch)
		if ch.RoleName == "" {
			subject, arn = rules.SubjectPolicy, ch.PolicyARN
		}
		return []assess.Subject{cannotRead(ch, subject, arn, err)}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	roles, subjects, err := changedRoles(ctx, rd, ch)
	ev.Roles = roles
	if err != nil || len(roles) == 0 {
		return subjects, nil, err
	}
	g := &roleChange{h: h, rd: rd, ch: ch, rec: rec, known: awsfacts.Roles{}, seen: map[string]bool{}, cache: rules.NewCache()}
	if rd.Uses != nil {
		g.uses = rd.Uses.Begin()
	}
	for _, name := range roles {
		if err := g.role(ctx, name); err != nil {
			return nil, nil, err
		}
	}
	if err := g.taskDefinitions(ctx, "", rec.Deregistered, nil); err != nil {
		return nil, nil, err
	}
	return append(subjects, g.subjects...), g.notes, nil
}

// changedRoles returns the roles the change reached: the one it names, or
// every role a changed managed policy is attached to. When those cannot be
// listed for good (access denied), the policy itself is the subject, with
// an incomplete report, so the change is still alerted.
func changedRoles(ctx context.Context, rd *reader, ch trail.Change) ([]string, []assess.Subject, error) {
	if ch.RoleName != "" {
		return []string{ch.RoleName}, nil, nil
	}
	roles, err := rd.Facts.PolicyRoles(ctx, ch.PolicyARN)
	switch {
	case err == nil:
		return roles, nil, nil
	case !awsfacts.Permanent(err):
		return nil, nil, err
	}
	return nil, []assess.Subject{cannotRead(ch, rules.SubjectPolicy, ch.PolicyARN, err)}, nil
}

// cannotRead is a subject that could not be read at all, with why: its
// report is incomplete, so the event is alerted and nothing is enforced.
func cannotRead(ch trail.Change, subject, arn string, err error) assess.Subject {
	return assess.Subject{Facts: rules.Facts{
		Account: ch.Account, Region: ch.Region,
		Unread:  &rules.Subject{Type: subject, ARN: arn},
		Missing: []rules.FactError{{Subject: arn, Err: err}},
	}}
}

// unreachable reports whether err is a member account that cannot be
// entered: its member role could not be assumed.
func unreachable(err error) bool {
	var ae *accounts.AssumeError
	return errors.As(err, &ae)
}

// roleARN is the ARN of the role the change names.
func roleARN(ch trail.Change) string {
	return accounts.RoleARN(cmpOr(arnPartition(ch.Actor), "aws"), ch.Account, ch.RoleName)
}

// roleChange gathers the subjects of one role change.
type roleChange struct {
	h        *Handler
	rd       *reader // the clients of the change's account
	ch       trail.Change
	rec      *ledger.Record
	known    awsfacts.Roles // each role read once in the invocation
	uses     *awsfacts.UseLookup
	seen     map[string]bool
	indexErr error               // the index failed once: the scan answers from then on
	fams     map[string][]string // task role → the families using it
	cache    *rules.Cache        // each role's permissions, compiled once
	subjects []assess.Subject
	notes    []string
}

// role adds the role as a secondary role when it is one (or when what uses
// it could not be read), and the revisions that use it.
func (g *roleChange) role(ctx context.Context, name string) error {
	role, missing, err := g.rd.Facts.Role(ctx, name)
	if err != nil {
		return err
	}
	g.known.Put(role, missing)
	if role != nil && g.uses != nil {
		m, err := g.uses.Fill(ctx, role)
		if err != nil {
			return err
		}
		missing = append(missing, m...)
	}
	before, known := beforeChange(g.ch, role)
	if role != nil && (len(rules.SecondaryClasses(role)) > 0 || role.Incomplete()) {
		s := assess.Subject{Facts: rules.Facts{Account: g.ch.Account, Region: g.ch.Region, Role: role, Missing: missing, Cache: g.cache}, UsedBy: role.Uses}
		if known {
			b := s.Facts
			b.Role = before
			s.Before = &b
		}
		g.subjects = append(g.subjects, s)
	}
	arns, err := g.using(ctx, name)
	if err != nil {
		return err
	}
	if !known {
		before = nil
	}
	return g.taskDefinitions(ctx, name, arns, before)
}

// describers bounds the DescribeTaskDefinition calls in flight, as scan
// does: a change that reaches many revisions reads them concurrently, and
// the SDK's retryer absorbs the throttling.
const describers = 8

// taskDefinitions adds the revisions, described concurrently, in order.
func (g *roleChange) taskDefinitions(ctx context.Context, role string, arns []string, before *rules.Role) error {
	arns = slices.DeleteFunc(slices.Clone(arns), func(a string) bool { return g.seen[a] })
	for _, a := range arns {
		g.seen[a] = true
	}
	described := make([]awsfacts.Described, len(arns))
	errs := make([]error, len(arns))
	sem := make(chan struct{}, describers)
	var wg sync.WaitGroup
	for i, arn := range arns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			described[i], errs[i] = g.rd.Facts.Describe(ctx, arn)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, d := range described {
		if err := g.taskDefinition(ctx, role, d, before); err != nil {
			return err
		}
	}
	return nil
}

// using lists the revisions that use the role: the index, or the scan
// when there is none, it cannot be read, or no sweep has walked the
// account yet (its older revisions may be missing from the index).
func (g *roleChange) using(ctx context.Context, name string) ([]string, error) {
	if g.h.Index != nil && g.indexErr == nil {
		arns, err := g.indexed(ctx, name)
		if err == nil {
			return arns, nil
		}
		g.indexErr = err
		g.notes = append(g.notes, "every ACTIVE revision was scanned instead of reading the role index: "+err.Error())
	}
	return g.rd.Scan.TaskDefinitions(ctx, name)
}

// errNotSwept says the index cannot answer for an account yet.
var errNotSwept = errors.New("the role index has not been built for this account yet (the daily sweep builds it)")

func (g *roleChange) indexed(ctx context.Context, name string) ([]string, error) {
	swept, err := g.h.Index.Swept(ctx, g.ch.Account)
	switch {
	case err != nil:
		return nil, err
	case !swept:
		return nil, fmt.Errorf("account %s: %w", g.ch.Account, errNotSwept)
	}
	return g.h.Index.TaskDefinitions(ctx, g.ch.Account, name)
}

// taskDefinition adds one revision, with the role changed as it was before
// when known (before nil otherwise). A revision found INACTIVE is dropped
// from the index, unless this event deregistered it: then it is reported.
func (g *roleChange) taskDefinition(ctx context.Context, role string, d awsfacts.Described, before *rules.Role) error {
	arn := d.ARN
	f, err := g.rd.Facts.FactsOf(ctx, d, g.known)
	if err != nil {
		return err
	}
	td := f.TaskDefinition
	action, inactive := earlier(g.rec, arn, td.Status)
	if inactive {
		if role != "" {
			g.h.forget(ctx, g.ch.Account, role, arn) // deregistered since it was indexed
		}
		return nil
	}
	f.Cache = g.cache
	s := assess.Subject{Facts: f, Action: action}
	if fam, ok := g.families(ctx, td.TaskRoleARN); ok {
		s.Facts.Families = map[string][]string{td.TaskRoleARN: fam}
	}
	if before != nil {
		b := f
		b.Roles = withRole(f.Roles, before)
		s.Before = &b
	}
	g.subjects = append(g.subjects, s)
	return nil
}

// families are the families using a task role, from the index, read once
// per role in the invocation; ok is false when the index cannot tell.
func (g *roleChange) families(ctx context.Context, taskRole string) ([]string, bool) {
	if g.h.Index == nil || g.indexErr != nil || taskRole == "" {
		return nil, false
	}
	if fam, ok := g.fams[taskRole]; ok {
		return fam, true
	}
	fam, err := g.h.Index.Families(ctx, g.ch.Account, taskRole)
	if err != nil {
		return nil, false
	}
	if g.fams == nil {
		g.fams = map[string][]string{}
	}
	g.fams[taskRole] = fam
	return fam, true
}

// beforeChange is the role as it was before an attach or an inline put,
// when the event says what was added: the role without that policy. Other
// changes (detach, delete, trust, boundary, a new policy version) do not
// carry the state before.
func beforeChange(ch trail.Change, role *rules.Role) (*rules.Role, bool) {
	var name string
	switch ch.EventName {
	case "AttachRolePolicy":
		name = ch.PolicyARN
	case "PutRolePolicy":
		name = "inline:" + ch.PolicyName
	default:
		return nil, false
	}
	if role == nil {
		return nil, false
	}
	b := *role
	b.Policies = slices.DeleteFunc(slices.Clone(role.Policies), func(p iampolicy.Policy) bool { return p.Name == name })
	b.Attached = slices.DeleteFunc(slices.Clone(role.Attached), func(a string) bool { return a == name })
	return &b, true
}

// withRole is roles with the role of the same name replaced by r.
func withRole(roles map[string]*rules.Role, r *rules.Role) map[string]*rules.Role {
	out := make(map[string]*rules.Role, len(roles))
	for k, v := range roles {
		out[k] = v
		if strings.EqualFold(roleName(k), r.Name) {
			out[k] = r
			if k != r.ARN {
				b := *r
				b.ARN = k
				out[k] = &b
			}
		}
	}
	return out
}

func roleName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// forget drops a stale index entry; failing to is harmless (the next
// lookup skips the revision again), so it is only logged.
func (h *Handler) forget(ctx context.Context, account, role, arn string) {
	if h.Index == nil {
		return
	}
	if err := h.Index.Forget(ctx, account, role, arn); err != nil && h.Log != nil {
		h.Log.Warn("could not drop a stale index entry", "role", role, "taskDefinition", arn, "error", err.Error())
	}
}
