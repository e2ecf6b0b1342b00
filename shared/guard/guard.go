package guard

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ecsguard/ecsguard/shared/accounts"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/roleuse"
	"github.com/ecsguard/ecsguard/shared/securityhub"
)

// Handler runs the guardrail. Build it once per process (main does) so that
// clients and the facts cache live across invocations.
type Handler struct {
	Facts  *awsfacts.Loader
	SNS    *sns.Client
	ECS    *ecs.Client
	Config Config
	Log    *slog.Logger
	// Calls, when set, counts the AWS calls of each invocation.
	Calls *awsfacts.Calls
	// Index, when set, records each evaluated revision's roles (onregister)
	// and answers which revisions use a role (onrolechange); without it, or
	// when it cannot be read, onrolechange falls back to Scan.
	Index *roleuse.Index
	Scan  *roleuse.Scan
	// Uses, when set, finds what references a changed role besides task
	// definitions (onrolechange): EventBridge rules and schedules, scalable
	// targets, instance profiles. Without it, secondary roles are known by
	// trust and name only.
	Uses *awsfacts.UseFinder
	// Ledger keeps one record per event, so that a duplicate or a retry
	// neither deregisters nor alerts twice.
	Ledger *ledger.Ledger
	// Hub, when set (SECURITY_HUB), imports the findings of every
	// evaluation into Security Hub before the alert is published.
	Hub *securityhub.Importer
	// Accounts knows the deployment's own account and, in an
	// organization, its members and how to act in each (MEMBER_ROLE_NAME,
	// ORGANIZATION_ID). Facts, ECS, Scan and Uses act in the own account;
	// a member account gets its own, through its member role.
	Accounts *accounts.Directory
	members  readers
	// SweepReserve is the time before the invocation's deadline after
	// which a sweep starts no more accounts; 0 is 90 s, or a third of the
	// time left when less.
	SweepReserve time.Duration
}

// OnRegister handles an EventBridge event for an ECS RegisterTaskDefinition
// call, or an ECS TagResource that sets an exemption tag on a revision
// (recording who set it): it evaluates the revision and its roles,
// deregisters it in enforce mode, and alerts. It takes the raw event so that a malformed one
// is dropped with a message naming it rather than failing in the decoder.
func (h *Handler) OnRegister(ctx context.Context, event json.RawMessage) (Outcome, error) {
	r := h.handle(ctx, event, onRegister)
	return r.outcome(), r.err
}

// OnRoleChange handles an EventBridge event for an IAM role or policy
// change, or for a change to ecsguard's own topic, key or rules: it
// re-evaluates the task definitions and secondary ECS roles the change
// reaches and publishes one alert for the change (split in parts when it
// is large). It deregisters only with ENFORCE_ON_ROLE_CHANGE=true.
func (h *Handler) OnRoleChange(ctx context.Context, event []byte) (ChangeOutcome, error) {
	r := h.handle(ctx, event, onRoleChange)
	return r.changeOutcome(), r.err
}

// handle runs the pipeline, timing and counting it, and logs one line.
func (h *Handler) handle(ctx context.Context, event []byte, fn function) *run {
	start := time.Now()
	var calls0 int64
	if h.Calls != nil {
		calls0 = h.Calls.Total()
	}
	r := &run{}
	r.err = h.pipeline(ctx, event, fn, r)
	if h.Calls != nil {
		r.calls = h.Calls.Total() - calls0
	}
	h.log(r, time.Since(start))
	return r
}

func (h *Handler) log(r *run, took time.Duration) {
	if h.Log == nil {
		return
	}
	c := r.a.Count()
	attrs := []any{
		"eventId", r.ch.EventID, "eventName", r.ch.EventName, "kind", r.a.Event.Kind.String(), "result", r.result,
		"subjects", r.subjectARNs(), "findings", c.Open, "new", c.New, "suppressed", c.Suppressed, "incomplete", c.Incomplete,
		"deregistered", r.deregistered(), "alerted", r.alerted, "messages", len(r.messageIDs), "notes", r.a.Notes,
		"awsCalls", r.calls, "ms", took.Milliseconds(),
	}
	if s := r.suppressedDetail(); len(s) > 0 {
		attrs = append(attrs, "suppressedFindings", s)
	}
	if s := r.ignoredExemptions(); len(s) > 0 {
		attrs = append(attrs, "exemptionsIgnored", s)
	}
	if r.approval != "" {
		attrs = append(attrs, "exemptionRecorded", r.approval)
	}
	if h.Hub != nil {
		attrs = append(attrs, "securityHubFindings", r.imported)
	}
	switch {
	case r.err != nil:
		h.Log.Error("invocation failed, EventBridge will retry", append(attrs, "error", r.err.Error())...)
	case r.result == ResultDropped:
		h.Log.Warn("event dropped", append(attrs, "reason", r.reason)...)
	default:
		h.Log.Info("event handled", append(attrs, "reason", r.reason)...)
	}
}
