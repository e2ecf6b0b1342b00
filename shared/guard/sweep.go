package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/roleuse"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// IsScheduled reports whether event is an EventBridge scheduled event (a
// rule with a schedule expression), which asks onrolechange for a sweep.
func IsScheduled(event []byte) bool {
	var e struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
	}
	return json.Unmarshal(event, &e) == nil && e.Source == "aws.events" && e.DetailType == "Scheduled Event"
}

// SweepOutcome is what a sweep did.
type SweepOutcome struct {
	Result   string `json:"result"` // "swept", "dropped" (no index) or "failed"
	Recorded int    `json:"recorded"`
	// Accounts are the accounts walked: the own one, and in an
	// organization the active members, those swept longest ago first.
	Accounts int `json:"accounts"`
	// Left are the accounts not reached before the invocation's deadline:
	// the next sweep takes them first.
	Left int `json:"left,omitempty"`
	// Unreachable are the accounts whose member role could not be
	// assumed, with why: their lookups keep going to the scan.
	Unreachable []string `json:"unreachable,omitempty"`
	Calls       int64    `json:"awsCalls"`
}

// sweepers is how many accounts a sweep walks at once, each describing
// its revisions in turn: the ECS request rate is per account, so
// accounts in parallel do not throttle each other.
const sweepers = 8

// sweepReserve is the most time kept back from the invocation's deadline:
// no account is started later than this before it (a third of the time
// left, when the function's timeout is short).
const sweepReserve = 90 * time.Second

// Sweep records every ACTIVE revision of each guarded account in the
// index, so that revisions registered before ecsguard was deployed (or
// before the account joined), or whose registration event was lost, are
// found by onrolechange too. Accounts are walked several at once, those
// swept longest ago (or never) first, and none is started close to the
// deadline: an organization too large for one invocation is covered over
// the next ones. An account that cannot be entered is reported and the
// others are swept; a transient failure fails the sweep after the
// others, for EventBridge to retry.
func (h *Handler) Sweep(ctx context.Context) (SweepOutcome, error) {
	start := time.Now()
	var calls0 int64
	if h.Calls != nil {
		calls0 = h.Calls.Total()
	}
	if h.Index == nil {
		// A deployment mistake, not a transient failure: retrying cannot cure it.
		if h.Log != nil {
			h.Log.Warn("sweep dropped: INDEX_TABLE is not set, there is no index to sweep")
		}
		return SweepOutcome{Result: ResultDropped}, nil
	}
	out := SweepOutcome{Result: "swept"}
	list, err := h.sweepAccounts(ctx)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	deadline, bounded := ctx.Deadline()
	reserve := h.SweepReserve
	if reserve == 0 {
		reserve = min(sweepReserve, time.Until(deadline)/3)
	}
	var mu sync.Mutex
	sem := make(chan struct{}, sweepers)
	var wg sync.WaitGroup
	for _, account := range list {
		sem <- struct{}{}
		if bounded && time.Until(deadline) < reserve {
			<-sem
			mu.Lock()
			out.Left++
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := h.sweepAccount(ctx, account)
			mu.Lock()
			defer mu.Unlock()
			out.Recorded += n
			switch {
			case unreachable(err):
				out.Unreachable = append(out.Unreachable, err.Error())
			case err != nil:
				errs = append(errs, fmt.Errorf("account %s: %w", account, err))
			default:
				out.Accounts++
			}
		}()
	}
	wg.Wait()
	slices.Sort(out.Unreachable)
	if h.Calls != nil {
		out.Calls = h.Calls.Total() - calls0
	}
	if err := errors.Join(errs...); err != nil {
		out.Result = ResultFailed
		err = &RetryableError{Stage: "sweep", Err: err}
		h.logSweep(out, start, err)
		return out, err
	}
	h.logSweep(out, start, nil)
	return out, nil
}

func (h *Handler) sweepAccount(ctx context.Context, account string) (int, error) {
	rd, err := h.in(ctx, account)
	if err != nil {
		return 0, err
	}
	if err := h.checkMemberRole(ctx, account, rd); err != nil {
		return 0, err
	}
	return roleuse.Rebuild(ctx, account, rd.Scan, h.Index)
}

// memberPolicy is the inline policy of the member role, as the member
// stack creates it (infra/member.go).
const memberPolicy = "ecsguard-reads"

// MemberNeeds are the calls the functions make with the member role in
// account, each on a resource of the kind it takes: a member role whose
// policies no longer allow one of them leaves ecsguard's verdicts in the
// account incomplete. infra/member.go grants them (its test checks it).
func MemberNeeds(partition, account, region string, enforce bool) []iampolicy.Request {
	arn := func(service, region, resource string) string {
		return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource
	}
	role, policy := arn("iam", "", "role/any"), arn("iam", "", "policy/any")
	var out []iampolicy.Request
	add := func(resource string, actions ...string) {
		for _, a := range actions {
			out = append(out, iampolicy.Request{Action: a, Resource: resource})
		}
	}
	add("*", "ecs:ListTaskDefinitions", "ecs:ListClusters", "events:ListEventBuses", "events:ListRuleNamesByTarget",
		"scheduler:ListSchedules", "application-autoscaling:DescribeScalableTargets")
	add(arn("ecs", region, "task-definition/any:1"), "ecs:DescribeTaskDefinition")
	add(role, "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole")
	add(policy, "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListEntitiesForPolicy")
	add("arn:"+partition+":iam::aws:policy/AmazonECSTaskExecutionRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion")
	add(arn("events", region, "rule/any"), "events:ListTargetsByRule")
	add(arn("scheduler", region, "schedule/default/any"), "scheduler:GetSchedule")
	if enforce {
		add(arn("ecs", region, "task-definition/any:1"), "ecs:DeregisterTaskDefinition")
	}
	return out
}

// checkMemberRole compares a member account's member role with what the
// member stack deployed: a trust that admits more than ecsguard's
// functions, a policy added, removed or bounded, a read it no longer
// allows. A change made while
// ecsguard saw the account's events was alerted then; this catches what
// no event reported (made before the account joined, or while its events
// were lost). A difference is alerted as tampering, once per distinct
// difference while the event ledger keeps it.
func (h *Handler) checkMemberRole(ctx context.Context, account string, rd *reader) error {
	self, err := h.Accounts.Self(ctx)
	if err != nil || account == self || h.Config.MemberRoleName == "" {
		return err
	}
	role, missing, err := rd.Facts.Role(ctx, h.Config.MemberRoleName)
	if err != nil {
		return err
	}
	drift := rules.RoleDrift(role, rules.Deployed{Trusted: h.Config.OwnRoleARNs, Inline: []string{memberPolicy},
		Needs: MemberNeeds(cmpOr(arnPartition(role.ARN), "aws"), account, h.Accounts.Base.Region, h.Config.Mode == ModeEnforce)})
	for _, m := range missing {
		drift = append(drift, "cannot be read with itself: "+m.Error())
	}
	if len(drift) == 0 {
		return nil
	}
	arn := h.ownRole(account, h.Config.MemberRoleName)
	sum := sha256.Sum256([]byte(strings.Join(drift, "\n")))
	id := "member-role-drift-" + hex.EncodeToString(sum[:8])
	rec, err := h.Ledger.Begin(ctx, account+"/"+id)
	if err != nil || rec.Done {
		return err
	}
	name, _, _ := h.member(ctx, account)
	ev := assess.Event{Kind: assess.Tampering, ID: id, Name: "MemberRoleDrift", Account: account, AccountName: name,
		Region: h.Accounts.Base.Region, Resource: arn}
	r := &run{a: assess.Assess(ev, []assess.Subject{{Facts: rules.Facts{
		Account: account, Region: ev.Region,
		Tampered: &rules.Tampered{Resource: arn, Change: "found by the sweep: " + strings.Join(drift, "; ")},
	}}})}
	last, err := h.announce(ctx, r, rec)
	if err == nil {
		err = rec.Finish(ctx, last)
	}
	if err != nil {
		if rerr := rec.Release(ctx); rerr != nil && h.Log != nil {
			h.Log.Warn("could not release the drift record", "account", account, "error", rerr.Error())
		}
		return fmt.Errorf("alert the member role's drift: %w", err)
	}
	return nil
}

// sweepAccounts are the accounts a sweep walks: the own one, and the
// active members of the organization that the deployment watches.
func (h *Handler) sweepAccounts(ctx context.Context) ([]string, error) {
	self, err := h.Accounts.Self(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{self}
	if h.Accounts.Organization == "" {
		return out, nil
	}
	members, err := h.Accounts.List(ctx)
	if err != nil {
		return out, err
	}
	for _, a := range members {
		if a.Active() && a.ID != self && h.watches(a.ID) {
			out = append(out, a.ID)
		}
	}
	// Longest ago first; never swept is longest ago.
	at, err := h.Index.SweptAt(ctx)
	if err != nil {
		return out, err
	}
	slices.SortStableFunc(out, func(a, b string) int { return at[a].Compare(at[b]) })
	return out, nil
}

func (h *Handler) logSweep(out SweepOutcome, start time.Time, err error) {
	if h.Log == nil {
		return
	}
	attrs := []any{"result", out.Result, "recorded", out.Recorded, "accounts", out.Accounts, "left", out.Left, "unreachable", out.Unreachable,
		"awsCalls", out.Calls, "ms", time.Since(start).Milliseconds()}
	if err != nil {
		h.Log.Error("sweep failed, EventBridge will retry", append(attrs, "error", err.Error())...)
		return
	}
	h.Log.Info("index swept", attrs...)
}
