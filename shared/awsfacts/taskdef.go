package awsfacts

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// taskDefinition converts the SDK's task definition into the rules' own,
// field by field: only what the rules read.
func taskDefinition(t *ecstypes.TaskDefinition, tags []ecstypes.Tag) *rules.TaskDefinition {
	if t == nil {
		return &rules.TaskDefinition{}
	}
	td := &rules.TaskDefinition{
		ARN:              aws.ToString(t.TaskDefinitionArn),
		Family:           aws.ToString(t.Family),
		Revision:         int(t.Revision),
		TaskRoleARN:      aws.ToString(t.TaskRoleArn),
		ExecutionRoleARN: aws.ToString(t.ExecutionRoleArn),
		NetworkMode:      string(t.NetworkMode),
		Status:           string(t.Status),
		Tags:             map[string]string{},
	}
	for _, c := range t.RequiresCompatibilities {
		td.RequiresCompatibilities = append(td.RequiresCompatibilities, string(c))
	}
	for _, tag := range tags {
		td.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	for _, c := range t.ContainerDefinitions {
		td.Containers = append(td.Containers, container(c))
	}
	return td
}

func container(c ecstypes.ContainerDefinition) rules.Container {
	out := rules.Container{Name: aws.ToString(c.Name), Image: aws.ToString(c.Image), Secrets: secrets(c.Secrets)}
	for _, kv := range c.Environment {
		out.Environment = append(out.Environment, rules.KeyValue{Name: aws.ToString(kv.Name), Value: aws.ToString(kv.Value)})
	}
	for _, f := range c.EnvironmentFiles {
		out.EnvironmentFiles = append(out.EnvironmentFiles, rules.EnvironmentFile{Type: string(f.Type), Value: aws.ToString(f.Value)})
	}
	if l := c.LogConfiguration; l != nil {
		out.LogConfiguration = &rules.LogConfiguration{LogDriver: string(l.LogDriver), Options: l.Options, SecretOptions: secrets(l.SecretOptions)}
	}
	if r := c.RepositoryCredentials; r != nil {
		out.RepositoryCredentials = &rules.RepositoryCredentials{CredentialsParameter: aws.ToString(r.CredentialsParameter)}
	}
	if f := c.FirelensConfiguration; f != nil {
		out.FirelensConfiguration = &rules.FirelensConfiguration{Type: string(f.Type), Options: f.Options}
	}
	return out
}

func secrets(in []ecstypes.Secret) []rules.Secret {
	var out []rules.Secret
	for _, s := range in {
		out = append(out, rules.Secret{Name: aws.ToString(s.Name), ValueFrom: aws.ToString(s.ValueFrom)})
	}
	return out
}
