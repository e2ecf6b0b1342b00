package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Effect is a statement's effect.
type Effect uint8

// The two effects IAM knows.
const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Effect(" + fmt.Sprint(uint8(e)) + ")"
}

// MarshalText writes "Allow" or "Deny".
func (e Effect) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Document is a parsed IAM policy document: an identity policy, a
// permissions boundary or a trust policy.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a [Document]. Exactly one of Action and
// NotAction is set; at most one of Resource and NotResource (trust policies
// have neither). Raw keeps the statement as written, for evidence.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       Strings
	NotAction    Strings
	Resource     Strings
	NotResource  Strings
	Condition    Condition
	Raw          json.RawMessage
}

// Parse reads a policy document given as plain JSON or URL-encoded (RFC 3986),
// the form the IAM Get* APIs return. Errors are [*ParseError].
func Parse(raw string) (*Document, error) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return nil, &ParseError{Err: ErrEmpty}
	}
	if text[0] != '{' {
		// IAM returns documents URL-encoded. PathUnescape, not QueryUnescape:
		// a '+' in a document is a literal plus, never an encoded space.
		dec, err := url.PathUnescape(text)
		if err != nil {
			return nil, &ParseError{Err: ErrEncoding}
		}
		text = strings.TrimSpace(dec)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		return nil, syntaxError(text, err)
	}
	if top == nil {
		return nil, &ParseError{Err: ErrNotObject}
	}
	d := &Document{}
	for k, v := range top {
		var err error
		switch k {
		case "Version":
			err = json.Unmarshal(v, &d.Version)
		case "Id":
			err = json.Unmarshal(v, &d.ID)
		case "Statement":
			d.Statements, err = parseStatements(v)
			if pe := (*ParseError)(nil); errors.As(err, &pe) {
				return nil, pe
			}
		default:
			return nil, &ParseError{Path: k, Err: errUnknownElement}
		}
		if err != nil {
			return nil, &ParseError{Path: k, Err: ErrNotStringOrList}
		}
	}
	if _, ok := top["Statement"]; !ok {
		return nil, &ParseError{Err: ErrNoStatement}
	}
	return d, nil
}

var errUnknownElement = errors.New("unknown policy element")

func parseStatements(v json.RawMessage) ([]Statement, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '{' {
		s, err := parseStatement("Statement", v)
		if err != nil {
			return nil, err
		}
		return []Statement{s}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, &ParseError{Path: "Statement", Err: ErrNotObject}
	}
	out := make([]Statement, 0, len(list))
	for i, raw := range list {
		s, err := parseStatement(fmt.Sprintf("Statement[%d]", i), raw)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseStatement(path string, raw json.RawMessage) (Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Statement{}, &ParseError{Path: path, Err: ErrNotObject}
	}
	s := Statement{Raw: raw}
	for k, v := range fields {
		at := path + "." + k
		var err error
		switch k {
		case "Sid":
			if json.Unmarshal(v, &s.Sid) != nil {
				err = ErrNotStringOrList
			}
		case "Effect":
			var e string
			_ = json.Unmarshal(v, &e)
			switch e {
			case "Allow":
				s.Effect = Allow
			case "Deny":
				s.Effect = Deny
			default:
				err = ErrEffect
			}
		case "Action":
			err = json.Unmarshal(v, &s.Action)
		case "NotAction":
			err = json.Unmarshal(v, &s.NotAction)
		case "Resource":
			err = json.Unmarshal(v, &s.Resource)
		case "NotResource":
			err = json.Unmarshal(v, &s.NotResource)
		case "Principal":
			s.Principal, err = parsePrincipal(v)
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipal(v)
		case "Condition":
			s.Condition, err = parseCondition(v)
		default:
			err = errUnknownElement
		}
		if err != nil {
			return Statement{}, &ParseError{Path: at, Err: reason(err)}
		}
	}
	switch {
	case s.Effect == 0:
		return Statement{}, &ParseError{Path: path + ".Effect", Err: ErrEffect}
	case fields["Action"] == nil && fields["NotAction"] == nil:
		return Statement{}, &ParseError{Path: path, Err: ErrNoAction}
	case fields["Action"] != nil && fields["NotAction"] != nil:
		return Statement{}, &ParseError{Path: path + ".NotAction", Err: ErrBothElements}
	case fields["Resource"] != nil && fields["NotResource"] != nil:
		return Statement{}, &ParseError{Path: path + ".NotResource", Err: ErrBothElements}
	case fields["Principal"] != nil && fields["NotPrincipal"] != nil:
		return Statement{}, &ParseError{Path: path + ".NotPrincipal", Err: ErrBothElements}
	}
	return s, nil
}

// reason keeps our sentinels and maps encoding/json's own errors to the
// element's expected shape.
func reason(err error) error {
	for _, s := range []error{ErrNotStringOrList, ErrConditionValue, ErrEffect, ErrPrincipal, ErrCondition, errUnknownElement} {
		if errors.Is(err, s) {
			return s
		}
	}
	return ErrNotStringOrList
}

// syntaxError turns encoding/json's byte offset into a line and column.
func syntaxError(text string, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &ParseError{Err: ErrNotObject}
		}
		return &ParseError{Err: ErrSyntax}
	}
	// Offset counts the bytes read, the bad one included; at the end of
	// the input (truncated), point just past the last non-blank byte.
	off := max(0, min(int(se.Offset), len(text)))
	if off == len(text) {
		off = len(strings.TrimRight(text, " \t\r\n")) + 1
	}
	before := text[:max(off-1, 0)]
	line := 1 + strings.Count(before, "\n")
	col := len(before) - strings.LastIndexByte(before, '\n')
	return &ParseError{Line: line, Column: col, Err: fmt.Errorf("%w: %s", ErrSyntax, se.Error())}
}
