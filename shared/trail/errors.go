package trail

import "errors"

// Reasons an event is not turned into a [Change]. Every error of this package
// is an [*Error] wrapping exactly one of them; test with errors.Is.
var (
	// ErrMalformed: the event is not valid JSON, a field has the wrong type,
	// or a field the change needs is missing or not of its form.
	ErrMalformed = errors.New("malformed event")
	// ErrForeign: a source, detail-type or event name this package does not
	// handle, such as an ECS RunTask or an S3 PutObject event.
	ErrForeign = errors.New("not an event ecsguard handles")
	// ErrFailedCall: the API call failed (the record has an errorCode), so
	// nothing changed. The error text carries the code and message.
	ErrFailedCall = errors.New("failed API call")
)

// Error is why one event was not turned into a [Change]: the event's id
// (the EventBridge id, empty when the envelope could not be read) and the
// reason, which wraps one of the sentinel errors.
type Error struct {
	EventID string
	Err     error
}

func (e *Error) Error() string {
	id := e.EventID
	if id == "" {
		id = "(no id)"
	}
	return "event " + id + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
