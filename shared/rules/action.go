package rules

import (
	"fmt"
	"strings"
)

// ActionType is what enforcement may do about a subject. Its text is the
// report's "type": "none" or "deregister".
type ActionType uint8

// The action types. The zero value is ActionNone.
const (
	ActionNone ActionType = iota
	ActionDeregister
)

var actionTypeNames = [...]string{ActionNone: "none", ActionDeregister: "deregister"}

func (t ActionType) String() string {
	if int(t) < len(actionTypeNames) {
		return actionTypeNames[t]
	}
	return fmt.Sprintf("ActionType(%d)", uint8(t))
}

// MarshalText writes "none" or "deregister".
func (t ActionType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText reads "none" (or "") and "deregister".
func (t *ActionType) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "none":
		*t = ActionNone
	case "deregister":
		*t = ActionDeregister
	default:
		return fmt.Errorf("unknown action type %q (want none or deregister)", b)
	}
	return nil
}

// ResultKind is how an action ended.
type ResultKind uint8

// The results of an action. The zero value, NotAttempted, has no text.
const (
	NotAttempted    ResultKind = iota
	Deregistered               // the revision is INACTIVE
	WouldDeregister            // dry run: nothing was changed
	Failed                     // AWS refused for good; Detail says why
)

// ActionResult is the outcome of an action: its kind, and for a failure
// the error AWS gave. Its text is the report's "result": "deregistered",
// "would deregister (dry run)", "failed: <error>", or nothing.
type ActionResult struct {
	Kind   ResultKind
	Detail string
}

// String is the report's text for the result.
func (r ActionResult) String() string {
	switch r.Kind {
	case Deregistered:
		return "deregistered"
	case WouldDeregister:
		return "would deregister (dry run)"
	case Failed:
		return "failed: " + r.Detail
	}
	return ""
}

// IsZero reports whether there is no result (so JSON omits it).
func (r ActionResult) IsZero() bool { return r.Kind == NotAttempted }

// MarshalText writes the report's text.
func (r ActionResult) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads the report's text back.
func (r *ActionResult) UnmarshalText(b []byte) error {
	s := string(b)
	switch {
	case s == "":
		*r = ActionResult{}
	case s == "deregistered":
		*r = ActionResult{Kind: Deregistered}
	case strings.HasPrefix(s, "would deregister"):
		*r = ActionResult{Kind: WouldDeregister}
	case strings.HasPrefix(s, "failed"):
		*r = ActionResult{Kind: Failed, Detail: strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "failed"), ":"))}
	default:
		return fmt.Errorf("unknown action result %q", s)
	}
	return nil
}
