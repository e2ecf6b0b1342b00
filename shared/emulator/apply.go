package emulator

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Apply makes the IAM call a CloudTrail event records, with the event's
// request parameters, so that the account is in the state the event
// announces before the event is handled: what AWS does before it delivers
// the event. It handles the IAM event names onrolechange watches, and the
// ECS TagResource onregister watches.
func Apply(ctx context.Context, cfg aws.Config, event []byte) error {
	var e struct {
		Detail struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			Request     struct {
				RoleName            *string  `json:"roleName"`
				PolicyARN           *string  `json:"policyArn"`
				PolicyName          *string  `json:"policyName"`
				PolicyDocument      *string  `json:"policyDocument"`
				AssumeRolePolicy    *string  `json:"assumeRolePolicyDocument"`
				Path                *string  `json:"path"`
				Description         *string  `json:"description"`
				SetAsDefault        bool     `json:"setAsDefault"`
				VersionID           *string  `json:"versionId"`
				PermissionsBoundary *string  `json:"permissionsBoundary"`
				TagKeys             []string `json:"tagKeys"`
				ResourceARN         *string  `json:"resourceArn"`
				Tags                []struct {
					Key   string `json:"key"`
					Value string `json:"value"`
				} `json:"tags"`
			} `json:"requestParameters"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	r := e.Detail.Request
	if e.Detail.EventSource == "ecs.amazonaws.com" && e.Detail.EventName == "TagResource" {
		var tags []ecstypes.Tag
		for _, t := range r.Tags {
			tags = append(tags, ecstypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		if _, err := ecs.NewFromConfig(cfg).TagResource(ctx, &ecs.TagResourceInput{ResourceArn: r.ResourceARN, Tags: tags}); err != nil {
			return fmt.Errorf("apply TagResource: %w", err)
		}
		return nil
	}
	c := iam.NewFromConfig(cfg)
	var err error
	switch e.Detail.EventName {
	case "AttachRolePolicy":
		_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: r.RoleName, PolicyArn: r.PolicyARN})
	case "DetachRolePolicy":
		_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: r.RoleName, PolicyArn: r.PolicyARN})
	case "PutRolePolicy":
		_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: r.RoleName, PolicyName: r.PolicyName, PolicyDocument: r.PolicyDocument})
	case "DeleteRolePolicy":
		_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: r.RoleName, PolicyName: r.PolicyName})
	case "UpdateAssumeRolePolicy":
		_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: r.RoleName, PolicyDocument: r.PolicyDocument})
	case "CreatePolicyVersion":
		_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: r.PolicyARN, PolicyDocument: r.PolicyDocument, SetAsDefault: r.SetAsDefault})
	case "SetDefaultPolicyVersion":
		_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: r.PolicyARN, VersionId: r.VersionID})
	case "PutRolePermissionsBoundary":
		_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: r.RoleName, PermissionsBoundary: r.PermissionsBoundary})
	case "DeleteRolePermissionsBoundary":
		_, err = c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: r.RoleName})
	case "CreateRole":
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: r.RoleName, AssumeRolePolicyDocument: r.AssumeRolePolicy, Path: r.Path, Description: r.Description})
	case "TagRole":
		var tags []iamtypes.Tag
		for _, t := range r.Tags {
			tags = append(tags, iamtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: r.RoleName, Tags: tags})
	case "UntagRole":
		_, err = c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: r.RoleName, TagKeys: r.TagKeys})
	default:
		return fmt.Errorf("apply: %q is not an IAM change this emulator replays", e.Detail.EventName)
	}
	if err != nil {
		return fmt.Errorf("apply %s: %w", e.Detail.EventName, err)
	}
	return nil
}
