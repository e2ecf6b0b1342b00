package cfntemplate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// taskDefinition builds one AWS::ECS::TaskDefinition. Each value that
// cannot be resolved is left out, with a fact error naming the resource,
// the property and the expression: the rest of the task definition is
// still judged, and the report is incomplete.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-taskdefinition.html
func (b *builder) taskDefinition(id string) {
	res := b.r.resources[id]
	props := properties(res)
	var missing []rules.FactError
	miss := func(where string, err error) {
		missing = append(missing, rules.FactError{Subject: id + "." + where, Err: err})
	}
	family, err := b.r.name(id)
	if err != nil {
		miss("Family", err)
		family = id
		if b.r.opts.StackName != "" {
			family = b.r.opts.StackName + "-" + id
		}
	}
	td := &rules.TaskDefinition{Family: family, Revision: 1, Status: "ACTIVE", Tags: map[string]string{}}
	td.ARN = taskDefinitionARN(b.r.opts, family, nil)
	if cond, ok := res["Condition"].(string); ok {
		miss("Condition", fmt.Errorf("created only when condition %s holds, decided at deployment", cond))
	}

	for _, ref := range []struct {
		prop string
		to   *string
	}{{"TaskRoleArn", &td.TaskRoleARN}, {"ExecutionRoleArn", &td.ExecutionRoleARN}} {
		v, ok := props[ref.prop]
		if !ok {
			continue
		}
		s, err := b.r.str(v)
		if err == nil {
			*ref.to = s
			continue
		}
		// The role is set, but which is not known: a placeholder ARN
		// stands for it, so that no rule takes the task definition for
		// one without that role.
		placeholder := "arn:" + b.r.opts.Partition + ":iam::" + b.r.opts.Account + ":role/unresolved/" + id + "/" + ref.prop
		b.t.unresolved[placeholder] = rules.FactError{Subject: placeholder, Err: fmt.Errorf("%s.%s: %w", id, ref.prop, err)}
		*ref.to = placeholder
	}

	resolved := map[string]any{}
	for _, k := range []string{"NetworkMode", "RequiresCompatibilities", "ContainerDefinitions"} {
		if v, ok := props[k]; ok {
			resolved[k] = b.partial(v, k, miss)
		}
	}
	raw, err := json.Marshal(resolved)
	if err == nil {
		// The CloudFormation property names are the ECS API's with a
		// capital first letter; encoding/json matches them to the JSON
		// names of rules.TaskDefinition regardless of case.
		err = json.Unmarshal(raw, td)
	}
	if err != nil {
		miss("ContainerDefinitions", fmt.Errorf("not of the shape ECS takes: %w", err))
	}
	if v, ok := props["Tags"]; ok {
		tags, err := b.tags(v)
		if err != nil {
			miss("Tags", err)
		}
		td.Tags = tags
	}
	b.t.TaskDefinitions = append(b.t.TaskDefinitions, td)
	b.t.Positions[td.ARN] = b.positions[id]
	if len(missing) > 0 {
		b.t.Missing[td.ARN] = missing
		for _, m := range missing {
			td.Unresolved = append(td.Unresolved, m.Subject)
		}
	}
}

// partial resolves v, leaving out each value that cannot be resolved and
// reporting it with its path.
func (b *builder) partial(v any, where string, miss func(string, error)) any {
	if _, _, ok := intrinsic(v); ok {
		x, err := b.r.value(v)
		if err != nil {
			miss(where, err)
			return noValue{}
		}
		return x
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if x := b.partial(v[k], where+"."+k, miss); !isNoValue(x) {
				out[k] = x
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for i, it := range v {
			if x := b.partial(it, fmt.Sprintf("%s[%d]", where, i), miss); !isNoValue(x) {
				out = append(out, x)
			}
		}
		return out
	}
	return v
}

func isNoValue(v any) bool {
	_, ok := v.(noValue)
	return ok
}
