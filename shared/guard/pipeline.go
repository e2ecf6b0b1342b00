package guard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/securityhub"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// function is which Lambda function runs the pipeline: each handles its
// own events and drops the others.
type function uint8

const (
	onRegister   function = iota + 1 // ECS registrations
	onRoleChange                     // IAM changes, and changes to ecsguard's own resources
)

// run is one invocation, from the event to its effects.
type run struct {
	ch         trail.Change
	result     string
	reason     string
	a          assess.Assessment
	alerted    bool
	messageIDs []string
	calls      int64
	err        error
	// approval is the exemption tags the event set and who set them, as
	// recorded in the ledger ("" when it set none).
	approval string
	// imported is how many findings were sent to Security Hub.
	imported int
}

// pipeline is the sequence both functions run: accept the event, claim its
// record, gather the facts, assess, enforce, alert, finish. It returns an
// error only when the invocation must fail so that EventBridge retries it.
func (h *Handler) pipeline(ctx context.Context, event []byte, fn function, r *run) error {
	ev, ok := h.accept(event, fn, r)
	if !ok {
		return nil
	}
	name, drop, err := h.member(ctx, cmpOr(arnAccount(r.ch.TaskDefinitionARN), r.ch.Account))
	switch {
	case err != nil:
		return h.fail(ctx, r, nil, "check the account", err)
	case drop != "":
		r.result, r.reason = ResultDropped, fmt.Sprintf("event %s: %s", r.ch.EventID, drop)
		return nil
	}
	ev.AccountName = name
	rec, err := h.Ledger.Begin(ctx, r.ch.Account+"/"+r.ch.EventID)
	switch {
	case err != nil:
		// ledger.ErrBusy among them: another delivery holds the event,
		// and this one comes back once it is done.
		return h.fail(ctx, r, nil, "claim event", err)
	case rec.Done:
		r.result, r.reason = ResultDuplicate, "already handled: a duplicate delivery, nothing done again"
		return nil
	}
	if r.approval, err = h.recordApproval(ctx, r.ch); err != nil {
		return h.fail(ctx, r, rec, "record exemption", err)
	}
	subjects, notes, err := h.gather(ctx, &ev, r.ch, rec)
	if err != nil {
		return h.fail(ctx, r, rec, "load facts", err)
	}
	more, err := h.exemptions(ctx, subjects)
	if err != nil {
		return h.fail(ctx, r, rec, "read exemption approvals", err)
	}
	notes = append(notes, more...)
	r.a = assess.Assess(ev, subjects)
	r.a.Notes = append(r.a.Notes, notes...)
	if err := h.enforce(ctx, &r.a, rec); err != nil {
		return h.fail(ctx, r, rec, "deregister", err)
	}
	// Imported before the alert: a throttled or failing import fails the
	// invocation before anything is published, and the retry imports again
	// (by Id, idempotent). One Security Hub refuses for good (access
	// denied, not enabled, a finding rejected twice) would refuse every
	// retry too: the alert goes out, saying so, rather than into the DLQ.
	if err := h.importFindings(ctx, r); err != nil {
		var refused *securityhub.ImportError
		if !awsfacts.Permanent(err) && !errors.As(err, &refused) {
			return h.fail(ctx, r, rec, "import findings into Security Hub", err)
		}
		r.a.Notes = append(r.a.Notes, "Security Hub: the findings were not imported: "+err.Error())
		if h.Log != nil {
			h.Log.Warn("Security Hub refused the findings; alerting without them", "error", err.Error())
		}
	}
	last, err := h.announce(ctx, r, rec)
	if err != nil {
		return h.fail(ctx, r, rec, "publish alert", err)
	}
	if err := rec.Finish(ctx, last); err != nil {
		return h.fail(ctx, r, rec, "finish event", err)
	}
	r.result = ResultEvaluated
	if len(r.a.Verdicts) == 0 {
		r.reason = "touches no task definition or secondary ECS role"
	}
	return nil
}

// fail records a failure the retry must redo, and gives the event's record
// up so that the retry need not wait for its lease.
func (h *Handler) fail(ctx context.Context, r *run, rec *ledger.Record, stage string, err error) error {
	r.result, r.reason = ResultFailed, err.Error()
	if rec != nil {
		if rerr := rec.Release(ctx); rerr != nil && h.Log != nil {
			h.Log.Warn("could not release the event record; the retry waits for its lease", "eventId", r.ch.EventID, "error", rerr.Error())
		}
	}
	return &RetryableError{Stage: stage, Err: err}
}

// accept parses the event and decides whether this function acts on it,
// and as what: it drops malformed and foreign events, events of accounts
// the deployment does not watch, and ignores what ecsguard itself did.
func (h *Handler) accept(event []byte, fn function, r *run) (assess.Event, bool) {
	ch, err := trail.ParseJSON(event)
	r.ch = ch
	drop := func(result, reason string) (assess.Event, bool) {
		r.result, r.reason = result, reason
		return assess.Event{}, false
	}
	if err != nil {
		var te *trail.Error
		if errors.As(err, &te) {
			r.ch.EventID = te.EventID
		}
		return drop(ResultDropped, err.Error())
	}
	ev := assess.Event{ID: ch.EventID, Name: ch.EventName, Actor: ch.Actor, Account: ch.Account, Region: ch.Region,
		Role: ch.RoleName, Policy: cmpOr(ch.PolicyARN, ch.PolicyName), Resource: ch.Resource}
	switch {
	case fn == onRegister && (ch.Source != trail.SourceECS || ch.TaskDefinitionARN == ""):
		return drop(ResultDropped, fmt.Sprintf("event %s: not a RegisterTaskDefinition event, nor a TagResource that exempts a task definition (%s %s)", ch.EventID, ch.Source, ch.EventName))
	case fn == onRoleChange && ch.Source == trail.SourceECS:
		return drop(ResultDropped, fmt.Sprintf("event %s: not an IAM change or a change to ecsguard's resources (%s %s)", ch.EventID, ch.Source, ch.EventName))
	case !h.watches(ch.Account) || !h.watches(arnAccount(ch.TaskDefinitionARN)):
		return drop(ResultDropped, fmt.Sprintf("event %s: account %s is not watched by this deployment (WATCHED_ACCOUNTS)", ch.EventID, cmpOr(arnAccount(ch.TaskDefinitionARN), ch.Account)))
	case slices.ContainsFunc(h.Config.OwnRoleARNs, ch.CausedBy), h.Config.MemberRoleName != "" && ch.CausedBy(h.ownRole(ch.Account, h.Config.MemberRoleName)):
		return drop(ResultIgnored, "caused by ecsguard's own role "+ch.Actor)
	}
	switch {
	case ch.Source == trail.SourceECS:
		ev.Kind = assess.Registration
	case ch.Source == trail.SourceIAM && h.ownRole(ch.Account, ch.RoleName) != "":
		ev.Kind, ev.Resource = assess.Tampering, h.ownRole(ch.Account, ch.RoleName)
	case ch.Source == trail.SourceIAM:
		ev.Kind = assess.RoleChange
	case h.ownResource(ch.Resource):
		ev.Kind = assess.Tampering
	default:
		return drop(ResultDropped, fmt.Sprintf("event %s: %s %s on %s, not one of ecsguard's own resources", ch.EventID, ch.Source, ch.EventName, ch.Resource))
	}
	if len(ev.Roles) == 0 && ch.RoleName != "" {
		ev.Roles = []string{ch.RoleName}
	}
	return ev, true
}

func (h *Handler) watches(account string) bool {
	return account == "" || len(h.Config.WatchedAccounts) == 0 || slices.Contains(h.Config.WatchedAccounts, account)
}

// ownRole returns the ARN of ecsguard's own role of that name in account,
// or "": the functions' roles, and in an organization the member role of
// every account.
func (h *Handler) ownRole(account, name string) string {
	if name == "" {
		return ""
	}
	for _, arn := range h.Config.OwnRoleARNs {
		if strings.EqualFold(arn[strings.LastIndexByte(arn, '/')+1:], name) && (account == "" || arnAccount(arn) == account) {
			return arn
		}
	}
	if m := h.Config.MemberRoleName; m != "" && strings.EqualFold(m, name) && h.Accounts != nil {
		return h.Accounts.MemberRole(account)
	}
	return ""
}

// ownResource reports whether an ARN is ecsguard's topic, key or one of its
// rules.
func (h *Handler) ownResource(arn string) bool {
	switch {
	case arn == "":
		return false
	case arn == h.Config.TopicARN, arn == h.Config.KeyARN, arn == h.Config.AlarmTopicARN:
		return true
	}
	if _, rule, ok := strings.Cut(arn, ":rule/"); ok {
		return slices.Contains(h.Config.RuleNames, rule[strings.LastIndexByte(rule, '/')+1:])
	}
	// A KMS key may be named by its id alone.
	return h.Config.KeyARN != "" && strings.HasSuffix(h.Config.KeyARN, "/"+arn)
}

// arnAccount is the account of an ARN, "" for none.
func arnAccount(arn string) string {
	if p := strings.SplitN(arn, ":", 6); len(p) == 6 {
		return p[4]
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// subjectARNs, deregistered and suppressedDetail summarise a run for its
// log line.
func (r *run) subjectARNs() []string {
	var out []string
	for _, v := range r.a.Verdicts {
		out = append(out, v.Report.Subject.ARN)
	}
	return out
}

func (r *run) deregistered() []string {
	var out []string
	for _, v := range r.a.Verdicts {
		if v.Report.Action.Result.Kind == rules.Deregistered {
			out = append(out, v.Report.Subject.ARN)
		}
	}
	return out
}

func (r *run) suppressedDetail() []string {
	var out []string
	for _, v := range r.a.Verdicts {
		for _, f := range v.Suppressed() {
			out = append(out, fmt.Sprintf("%s %s on %s: %s", f.Rule, f.Severity, f.Resource, f.SuppressedReason))
		}
	}
	return out
}
