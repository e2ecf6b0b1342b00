package cfntemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrUnresolved is why a value is not known before deployment.
var ErrUnresolved = errors.New("cannot be resolved from the template")

// noValue is AWS::NoValue: the property it is given to is removed.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
type noValue struct{}

// resolver evaluates intrinsic functions against one template.
type resolver struct {
	opts       Options
	resources  map[string]map[string]any
	parameters map[string]any
	mappings   map[string]any
	depth      int
}

// unresolved is the error of an expression the template alone does not
// decide: it names the expression and says why.
func unresolved(expr any, why string) error {
	return fmt.Errorf("%s %w: %s", render(expr), ErrUnresolved, why)
}

// render writes an expression compactly, as the JSON syntax has it.
func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// intrinsic returns the function name and argument of a one-key map whose
// key is Ref or Fn::*.
func intrinsic(v any) (string, any, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, false
	}
	for k, arg := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, arg, true
		}
	}
	return "", nil, false
}

// value resolves every intrinsic function in v. The first expression that
// cannot be resolved makes the whole value unresolved.
func (r *resolver) value(v any) (any, error) {
	if fn, arg, ok := intrinsic(v); ok {
		return r.call(fn, arg, v)
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			y, err := r.value(x)
			if err != nil {
				return nil, err
			}
			if _, drop := y.(noValue); !drop {
				out[k] = y
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			y, err := r.value(x)
			if err != nil {
				return nil, err
			}
			if _, drop := y.(noValue); !drop {
				out = append(out, y)
			}
		}
		return out, nil
	}
	return v, nil
}

// str resolves v to a string.
func (r *resolver) str(v any) (string, error) {
	x, err := r.value(v)
	if err != nil {
		return "", err
	}
	s, ok := x.(string)
	if !ok {
		return "", unresolved(v, "does not resolve to a string")
	}
	return s, nil
}

// list resolves v to a list of values.
func (r *resolver) list(v any) ([]any, error) {
	x, err := r.value(v)
	if err != nil {
		return nil, err
	}
	l, ok := x.([]any)
	if !ok {
		return nil, unresolved(v, "does not resolve to a list")
	}
	return l, nil
}

func (r *resolver) call(fn string, arg, expr any) (any, error) {
	// Templates are finite, but a parameter or mapping may be referenced in
	// a loop of Fn::Sub variables: bound the nesting.
	if r.depth > 64 {
		return nil, unresolved(expr, "nested too deep")
	}
	r.depth++
	defer func() { r.depth-- }()
	switch fn {
	case "Ref":
		name, err := r.str(arg)
		if err != nil {
			return nil, err
		}
		return r.ref(name, expr)
	case "Fn::GetAtt":
		return r.getAtt(arg, expr)
	case "Fn::Join":
		return r.join(arg, expr)
	case "Fn::Sub":
		return r.sub(arg, expr)
	case "Fn::Select":
		return r.selectFn(arg, expr)
	case "Fn::Split":
		return r.split(arg, expr)
	case "Fn::FindInMap":
		return r.findInMap(arg, expr)
	case "Fn::ImportValue":
		return nil, unresolved(expr, "an export of another stack, known only once deployed")
	case "Fn::If":
		return nil, unresolved(expr, "depends on a condition, decided only at deployment")
	}
	return nil, unresolved(expr, fn+" is not evaluated by ecsguard")
}

// ref is the value of Ref: a pseudo parameter, a parameter or a resource.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-ref.html
func (r *resolver) ref(name string, expr any) (any, error) {
	if v, ok, err := r.pseudo(name, expr); ok {
		return v, err
	}
	if p, ok := r.parameters[name]; ok {
		return r.parameter(name, p, expr)
	}
	if _, ok := r.resources[name]; ok {
		return r.resourceRef(name, expr)
	}
	return nil, unresolved(expr, "no parameter or resource "+name+" in the template")
}

// pseudo is a pseudo parameter, set to the placeholders of Options.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
func (r *resolver) pseudo(name string, expr any) (any, bool, error) {
	o := r.opts
	switch name {
	case "AWS::AccountId":
		return o.Account, true, nil
	case "AWS::Region":
		return o.Region, true, nil
	case "AWS::Partition":
		return o.Partition, true, nil
	case "AWS::URLSuffix":
		return o.urlSuffix(), true, nil
	case "AWS::StackName":
		return o.StackName, true, nil
	case "AWS::StackId":
		return "arn:" + o.Partition + ":cloudformation:" + o.Region + ":" + o.Account + ":stack/" + o.StackName + "/00000000-0000-0000-0000-000000000000", true, nil
	case "AWS::NoValue":
		return noValue{}, true, nil
	case "AWS::NotificationARNs":
		return nil, true, unresolved(expr, "the stack's notification topics are given only at deployment")
	}
	return nil, false, nil
}

// parameter is a parameter's Default; without one, its value is given only
// at deployment. An SSM parameter type's Default is the name of the
// parameter to read, not the value.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
func (r *resolver) parameter(name string, p any, expr any) (any, error) {
	m, _ := p.(map[string]any)
	typ, _ := m["Type"].(string)
	def, ok := m["Default"]
	switch {
	case strings.HasPrefix(typ, "AWS::SSM::Parameter::Value"):
		return nil, unresolved(expr, "parameter "+name+" is read from SSM at deployment")
	case !ok:
		return nil, unresolved(expr, "parameter "+name+" has no Default: its value is given at deployment")
	}
	s, isString := def.(string)
	if isString && (typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")) {
		var out []any
		for _, x := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(x))
		}
		return out, nil
	}
	return r.value(def)
}

// getAtt takes ["Resource", "Attribute"] or "Resource.Attribute".
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getatt.html
func (r *resolver) getAtt(arg, expr any) (any, error) {
	var id, attr string
	switch a := arg.(type) {
	case string:
		var ok bool
		if id, attr, ok = strings.Cut(a, "."); !ok {
			return nil, unresolved(expr, "want Resource.Attribute")
		}
	case []any:
		if len(a) != 2 {
			return nil, unresolved(expr, "want [Resource, Attribute]")
		}
		var err error
		if id, err = r.str(a[0]); err != nil {
			return nil, err
		}
		if attr, err = r.str(a[1]); err != nil {
			return nil, err
		}
	default:
		return nil, unresolved(expr, "want [Resource, Attribute]")
	}
	if _, ok := r.resources[id]; !ok {
		return nil, unresolved(expr, "no resource "+id+" in the template")
	}
	return r.resourceAtt(id, attr, expr)
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-join.html
func (r *resolver) join(arg, expr any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, unresolved(expr, "want [delimiter, [values]]")
	}
	delim, err := r.str(a[0])
	if err != nil {
		return nil, err
	}
	items, err := r.list(a[1])
	if err != nil {
		return nil, err
	}
	parts := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, unresolved(expr, "a joined value is not a string")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, delim), nil
}

// sub takes "text" or ["text", {variables}]. ${Name} is a variable, a
// pseudo parameter, a parameter or a resource's Ref; ${Resource.Attribute}
// is Fn::GetAtt; ${!Literal} is "${Literal}".
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-sub.html
func (r *resolver) sub(arg, expr any) (any, error) {
	text, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, unresolved(expr, "want [text, {variables}]")
		}
		var ok bool
		if text, ok = a[0].(string); !ok {
			return nil, unresolved(expr, "the text must be a string")
		}
		if vars, ok = a[1].(map[string]any); !ok {
			return nil, unresolved(expr, "the variables must be a map")
		}
	default:
		return nil, unresolved(expr, "want text or [text, {variables}]")
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		end := strings.IndexByte(text[i:], '}')
		if end < 0 {
			return nil, unresolved(expr, "unclosed ${")
		}
		name := text[i+2 : i+end]
		text = text[i+end+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var v any
		var err error
		name = strings.TrimSpace(name)
		switch x, isVar := vars[name]; {
		case isVar:
			v, err = r.value(x)
		case strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::"):
			v, err = r.getAtt(name, map[string]any{"Fn::GetAtt": name})
		default:
			v, err = r.ref(name, map[string]any{"Ref": name})
		}
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, unresolved(expr, "${"+name+"} is not a string")
		}
		b.WriteString(s)
	}
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-select.html
func (r *resolver) selectFn(arg, expr any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, unresolved(expr, "want [index, [values]]")
	}
	is, err := r.str(a[0])
	if err != nil {
		return nil, err
	}
	items, err := r.list(a[1])
	if err != nil {
		return nil, err
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= len(items) {
		return nil, unresolved(expr, "index "+is+" out of range")
	}
	return items[i], nil
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-split.html
func (r *resolver) split(arg, expr any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, unresolved(expr, "want [delimiter, text]")
	}
	delim, err := r.str(a[0])
	if err != nil {
		return nil, err
	}
	s, err := r.str(a[1])
	if err != nil {
		return nil, err
	}
	if delim == "" {
		return nil, unresolved(expr, "empty delimiter")
	}
	var out []any
	for _, p := range strings.Split(s, delim) {
		out = append(out, p)
	}
	return out, nil
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-findinmap.html
func (r *resolver) findInMap(arg, expr any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) < 3 {
		return nil, unresolved(expr, "want [map, top-level key, second-level key]")
	}
	var keys []string
	for _, k := range a[:3] {
		s, err := r.str(k)
		if err != nil {
			return nil, err
		}
		keys = append(keys, s)
	}
	var cur any = r.mappings
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, unresolved(expr, "no mapping "+strings.Join(keys, "."))
		}
		if cur, ok = m[k]; !ok {
			return nil, unresolved(expr, "no mapping "+strings.Join(keys, "."))
		}
	}
	return r.value(cur)
}

// strings returns v resolved as a list of strings (a single string is a
// list of one, as IAM and ECS accept).
func (r *resolver) strings(v any) ([]string, error) {
	x, err := r.value(v)
	if err != nil {
		return nil, err
	}
	switch x := x.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, it := range x {
			s, ok := it.(string)
			if !ok {
				return nil, unresolved(v, "a value of the list is not a string")
			}
			out = append(out, s)
		}
		return slices.Clip(out), nil
	}
	return nil, unresolved(v, "not a string or list of strings")
}
