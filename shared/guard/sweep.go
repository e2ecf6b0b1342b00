package guard

import (
	"context"
	"encoding/json"
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
	Calls    int64  `json:"awsCalls"`
}

// Sweep records every ACTIVE revision of the account in the index, so that
// revisions registered before ecsguard was deployed, or whose registration
// event was lost, are found by onrolechange too.
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
	var err error
	out.Recorded, err = roleuse.Rebuild(ctx, h.Scan, h.Index)
	if h.Calls != nil {
		out.Calls = h.Calls.Total() - calls0
	}
	if err != nil {
		out.Result = ResultFailed
		err = &RetryableError{Stage: "sweep", Err: err}
	}
	if h.Log != nil {
		h.Log.Info("index swept", "result", out.Result, "recorded", out.Recorded, "awsCalls", out.Calls, "ms", time.Since(start).Milliseconds())
	}
	return out, err
}
