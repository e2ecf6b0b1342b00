package awsexport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// topObject decodes b as a JSON object, keeping its members raw. notShape is
// the error to wrap when b is valid JSON but not an object.
func topObject(b []byte, notShape error) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, ErrEmpty
	}
	if !json.Valid(b) {
		var v any
		return nil, decodeError(b, json.Unmarshal(b, &v))
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: top level is %s, not an object", notShape, jsonKind(trimmed))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, decodeError(b, err)
	}
	return top, nil
}

// decodeError gives encoding/json's errors a line and column in b, the text
// the user has open in an editor, instead of a byte offset.
func decodeError(b []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(b, se.Offset)
		return fmt.Errorf("line %d col %d: %w: %s", line, col, ErrSyntax, se.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := position(b, te.Offset)
		field := te.Field
		if field == "" {
			field = "value"
		}
		return fmt.Errorf("line %d col %d: %s: %w: got %s, want %s", line, col, field, ErrType, te.Value, te.Type)
	}
	return err
}

// position turns encoding/json's offset (the number of bytes read up to and
// including the offending byte) into the 1-based line and column of that
// byte. At the end of the input (truncated JSON) it points at the last
// non-blank byte, not at a line after the end of the file.
func position(b []byte, offset int64) (line, col int) {
	off := int(max(0, min(offset, int64(len(b)))))
	if off == len(b) {
		off = len(bytes.TrimRight(b, " \t\r\n"))
	}
	if off == 0 {
		return 1, 1
	}
	before := b[:off-1]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}

func jsonKind(v []byte) string {
	switch v[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// isObject reports whether a raw JSON value is an object.
func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}
