package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ecsguard/ecsguard/shared/roleuse"
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
	// organization every active member.
	Accounts int `json:"accounts"`
	// Unreachable are the accounts whose member role could not be
	// assumed, with why: their lookups keep going to the scan.
	Unreachable []string `json:"unreachable,omitempty"`
	Calls       int64    `json:"awsCalls"`
}

// Sweep records every ACTIVE revision of each guarded account in the
// index, so that revisions registered before ecsguard was deployed (or
// before the account joined), or whose registration event was lost, are
// found by onrolechange too. An account that cannot be entered is
// reported and the others are swept; a transient failure fails the sweep
// after the others, for EventBridge to retry.
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
	for _, account := range list {
		rd, err := h.in(ctx, account)
		if unreachable(err) {
			out.Unreachable = append(out.Unreachable, err.Error())
			continue
		}
		if err == nil {
			var n int
			n, err = roleuse.Rebuild(ctx, account, rd.Scan, h.Index)
			out.Recorded += n
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", account, err))
			continue
		}
		out.Accounts++
	}
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
	for _, a := range members {
		if a.Active() && a.ID != self && h.watches(a.ID) {
			out = append(out, a.ID)
		}
	}
	return out, err
}

func (h *Handler) logSweep(out SweepOutcome, start time.Time, err error) {
	if h.Log == nil {
		return
	}
	attrs := []any{"result", out.Result, "recorded", out.Recorded, "accounts", out.Accounts, "unreachable", out.Unreachable,
		"awsCalls", out.Calls, "ms", time.Since(start).Milliseconds()}
	if err != nil {
		h.Log.Error("sweep failed, EventBridge will retry", append(attrs, "error", err.Error())...)
		return
	}
	h.Log.Info("index swept", attrs...)
}
