package iampolicy

import (
	"errors"
	"fmt"
)

// Sentinel reasons carried by [ParseError]. Test with errors.Is.
var (
	ErrEmpty           = errors.New("empty policy document")
	ErrEncoding        = errors.New("not valid URL encoding")
	ErrSyntax          = errors.New("not valid JSON")
	ErrNotObject       = errors.New("not a JSON object")
	ErrNotStringOrList = errors.New("not a string or list of strings")
	ErrConditionValue  = errors.New("not a string, number, boolean or list of them")
	ErrNoStatement     = errors.New("no Statement")
	ErrEffect          = errors.New(`Effect must be "Allow" or "Deny"`)
	ErrNoAction        = errors.New("needs Action or NotAction")
	ErrBothElements    = errors.New("has both an element and its Not form")
	ErrPrincipal       = errors.New(`not "*" or an object of principal types`)
	ErrCondition       = errors.New("not an object of operator to key to values")
)

// ParseError reports where a policy document is malformed, in the shape of
// strconv.NumError: Path names the element ("Statement[2].Action"), Err is
// one of the sentinel reasons. Line and Column locate JSON syntax errors.
type ParseError struct {
	Path   string
	Line   int
	Column int
	Err    error
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("line %d col %d: %v", e.Line, e.Column, e.Err)
	case e.Path != "":
		return e.Path + ": " + e.Err.Error()
	default:
		return e.Err.Error()
	}
}

func (e *ParseError) Unwrap() error { return e.Err }
