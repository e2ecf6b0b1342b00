package guard

import (
	"fmt"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Results of an invocation.
const (
	ResultDropped   = "dropped"   // malformed, failed call, or not an event this function handles
	ResultIgnored   = "ignored"   // caused by ecsguard itself
	ResultEvaluated = "evaluated" // evaluated; alerted when there was something to say
	ResultFailed    = "failed"    // returned an error for EventBridge to retry
)

// Outcome is what an invocation did. The Lambda functions return it, so it
// is also what the Runtime Interface Emulator and the demo show.
type Outcome struct {
	EventID   string       `json:"eventId"`
	EventName string       `json:"eventName,omitempty"`
	Result    string       `json:"result"`
	Reason    string       `json:"reason,omitempty"`
	Subject   string       `json:"subject,omitempty"`
	Complete  bool         `json:"complete"`
	Findings  int          `json:"findings"` // unsuppressed
	Highest   string       `json:"highest,omitempty"`
	Rules     []string     `json:"rules,omitempty"`
	Alerted   bool         `json:"alerted"`
	MessageID string       `json:"messageId,omitempty"`
	Action    rules.Action `json:"action"`
	Calls     int64        `json:"awsCalls"`
}

// RetryableError is returned when the invocation must fail so that
// EventBridge retries it: Stage says where ("load facts", "publish").
// Lambda reports its type name as the errorType.
type RetryableError struct {
	Stage string
	Err   error
}

func (e *RetryableError) Error() string { return fmt.Sprintf("%s: %v", e.Stage, e.Err) }

func (e *RetryableError) Unwrap() error { return e.Err }
