package iampolicy

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Strings is a JSON value that IAM accepts as a single string or as a list of
// strings: Action, Resource, principal values and the like. It always
// unmarshals into a slice.
type Strings []string

// UnmarshalJSON accepts "a" or ["a","b"]; anything else is
// [ErrNotStringOrList].
func (s *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return ErrNotStringOrList
		}
		*s = Strings{one}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var many []string
		if err := json.Unmarshal(b, &many); err != nil {
			return ErrNotStringOrList
		}
		*s = many
		return nil
	}
	return ErrNotStringOrList
}

// conditionValues unmarshals a condition value: IAM accepts strings, numbers
// and booleans, alone or in a list, and compares them as strings.
type conditionValues []string

func (v *conditionValues) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep "123456789012" exact, not a float
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return ErrConditionValue
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, strconv.FormatBool(x))
		case json.Number:
			out = append(out, x.String())
		default:
			return ErrConditionValue
		}
	}
	*v = out
	return nil
}
