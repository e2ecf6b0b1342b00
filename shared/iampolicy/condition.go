package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Condition is a statement's Condition block: operator (StringEquals,
// ArnLike, ...) to condition key to values. Values are kept as strings, the
// way IAM compares them.
type Condition map[string]map[string][]string

func parseCondition(v json.RawMessage) (Condition, error) {
	var ops map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(v), &ops); err != nil || ops == nil {
		return nil, ErrCondition
	}
	c := make(Condition, len(ops))
	for op, block := range ops {
		var keys map[string]conditionValues
		if err := json.Unmarshal(block, &keys); err != nil || keys == nil {
			if errors.Is(err, ErrConditionValue) {
				return nil, ErrConditionValue
			}
			return nil, ErrCondition
		}
		c[op] = make(map[string][]string, len(keys))
		for k, vals := range keys {
			c[op][k] = vals
		}
	}
	return c, nil
}

// Keys returns the condition keys the block tests, lower-cased (IAM
// condition keys are case-insensitive), in no particular order.
func (c Condition) Keys() []string {
	var out []string
	for _, keys := range c {
		for k := range keys {
			out = append(out, strings.ToLower(k))
		}
	}
	return out
}

// Values returns the values tested for key (case-insensitive) under any
// operator, with the operators that test it.
func (c Condition) Values(key string) (ops []string, values []string) {
	for op, keys := range c {
		for k, vals := range keys {
			if strings.EqualFold(k, key) {
				ops = append(ops, op)
				values = append(values, vals...)
			}
		}
	}
	return ops, values
}
