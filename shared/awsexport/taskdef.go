package awsexport

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// ecsTag is a tag as ECS writes it: lower-case keys.
type ecsTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// describeOutput is `aws ecs describe-task-definition --include TAGS`.
type describeOutput struct {
	TaskDefinition *rules.TaskDefinition `json:"taskDefinition"`
	Tags           []ecsTag              `json:"tags"`
}

// bareTaskDefinition is a task definition object on its own, with the tags
// beside its fields as register-task-definition input has them.
type bareTaskDefinition struct {
	*rules.TaskDefinition
	Tags []ecsTag `json:"tags"`
}

// DecodeTaskDefinition reads the output of
// `aws ecs describe-task-definition --include TAGS`, or a bare task
// definition object. The response's top-level tags become
// [rules.TaskDefinition.Tags]. The task definition must have a
// taskDefinitionArn, a family and containerDefinitions.
func DecodeTaskDefinition(b []byte) (*rules.TaskDefinition, error) {
	top, err := topObject(b, ErrNotTaskDefinition)
	if err != nil {
		return nil, err
	}
	var (
		td   = &rules.TaskDefinition{}
		tags []ecsTag
	)
	switch {
	case top["taskDefinition"] != nil:
		if !isObject(top["taskDefinition"]) {
			return nil, fmt.Errorf(`%w: "taskDefinition" is not an object`, ErrNotTaskDefinition)
		}
		out := describeOutput{TaskDefinition: td}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, decodeError(b, err)
		}
		tags = out.Tags
	case top["taskDefinitionArn"] != nil || top["containerDefinitions"] != nil || top["family"] != nil:
		out := bareTaskDefinition{TaskDefinition: td}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, decodeError(b, err)
		}
		tags = out.Tags
	default:
		return nil, fmt.Errorf(`%w: no "taskDefinition" object%s`, ErrNotTaskDefinition, looksLike(top))
	}
	if err := checkTaskDefinition(td); err != nil {
		return nil, err
	}
	if len(tags) > 0 {
		td.Tags = make(map[string]string, len(tags))
		for _, t := range tags {
			td.Tags[t.Key] = t.Value
		}
	}
	return td, nil
}

// checkTaskDefinition insists on the fields every described task definition
// has, so a hand-edited or register-task-definition input file is caught
// here rather than judged with holes.
func checkTaskDefinition(td *rules.TaskDefinition) error {
	var missing []string
	if td.ARN == "" {
		missing = append(missing, `"taskDefinitionArn"`)
	}
	if td.Family == "" {
		missing = append(missing, `"family"`)
	}
	if td.Containers == nil {
		missing = append(missing, `"containerDefinitions"`)
	}
	if len(missing) > 0 {
		err := fmt.Errorf("task definition: %w %s", ErrMissingField, strings.Join(missing, ", "))
		if td.ARN == "" && td.Family != "" {
			err = fmt.Errorf("%w (register-task-definition input has no ARN: use describe-task-definition output)", err)
		}
		return err
	}
	if _, _, ok := TaskDefinitionARN(td.ARN); !ok {
		return fmt.Errorf("task definition: taskDefinitionArn %q: %w", td.ARN, ErrBadARN)
	}
	return nil
}

// TaskDefinitionARN splits an ECS task definition ARN
// (arn:aws:ecs:us-east-1:111122223333:task-definition/web:42) into its region
// and account.
func TaskDefinitionARN(arn string) (region, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "ecs" ||
		parts[3] == "" || parts[4] == "" || !strings.HasPrefix(parts[5], "task-definition/") {
		return "", "", false
	}
	return parts[3], parts[4], true
}

// looksLike names the export a wrongly shaped file seems to be, to help
// when two files were given in the wrong order.
func looksLike(top map[string]json.RawMessage) string {
	switch {
	case top["RoleDetailList"] != nil || top["Policies"] != nil:
		return " (it looks like a get-account-authorization-details output)"
	case top["taskDefinition"] != nil || top["taskDefinitionArn"] != nil:
		return " (it looks like a describe-task-definition output)"
	case top["taskDefinitionArns"] != nil:
		return " (it looks like a list-task-definitions output)"
	case top["Role"] != nil:
		return " (it looks like a get-role output)"
	}
	return ""
}
