package securityhub

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/ecsguard/ecsguard/shared/asff"
)

// toSDK is the SDK's form of a finding, attribute for attribute.
func toSDK(f asff.Finding) types.AwsSecurityFinding {
	res := make([]types.Resource, 0, len(f.Resources))
	for _, r := range f.Resources {
		res = append(res, types.Resource{Type: aws.String(r.Type), Id: aws.String(r.ID),
			Partition: types.Partition(r.Partition), Region: aws.String(r.Region)})
	}
	return types.AwsSecurityFinding{
		SchemaVersion: aws.String(f.SchemaVersion),
		Id:            aws.String(f.ID),
		ProductArn:    aws.String(f.ProductARN),
		GeneratorId:   aws.String(f.GeneratorID),
		AwsAccountId:  aws.String(f.AwsAccountID),
		Types:         f.Types,
		CreatedAt:     aws.String(f.CreatedAt),
		UpdatedAt:     aws.String(f.UpdatedAt),
		Severity:      &types.Severity{Label: types.SeverityLabel(f.Severity.Label)},
		Title:         aws.String(f.Title),
		Description:   aws.String(f.Description),
		Remediation: &types.Remediation{Recommendation: &types.Recommendation{
			Text: aws.String(f.Remediation.Recommendation.Text), Url: aws.String(f.Remediation.Recommendation.URL)}},
		SourceUrl:     aws.String(f.SourceURL),
		ProductFields: f.ProductFields,
		Resources:     res,
		Workflow:      &types.Workflow{Status: types.WorkflowStatus(f.Workflow.Status)},
		RecordState:   types.RecordState(f.RecordState),
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: types.SeverityLabel(f.FindingProviderFields.Severity.Label)},
			Types:    f.FindingProviderFields.Types,
		},
	}
}
