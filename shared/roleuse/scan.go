package roleuse

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Scan finds the ACTIVE revisions that use a role the only way ECS allows:
// list them all and describe each. It needs no table, and it costs one
// call per revision in the account: the baseline the [Index] is measured
// against, and what [Rebuild] walks once per sweep.
type Scan struct {
	ECS *ecs.Client
	// PageSize is ListTaskDefinitions' maxResults (0: the service default).
	PageSize int32
	// Regions are walked in turn (none: the client's region alone).
	Regions []string
}

// TaskDefinitions returns the ACTIVE revisions whose task or execution
// role is role (a name or an ARN).
func (s *Scan) TaskDefinitions(ctx context.Context, role string) ([]string, error) {
	// The scan walks one account: roles compare by name.
	key := roleName(role)
	var out []string
	err := s.each(ctx, func(td *ecstypes.TaskDefinition) error {
		for _, r := range []*string{td.TaskRoleArn, td.ExecutionRoleArn} {
			if r != nil && *r != "" && roleName(*r) == key {
				out = append(out, aws.ToString(td.TaskDefinitionArn))
				break
			}
		}
		return nil
	})
	return out, err
}

// each describes every ACTIVE revision of the account in each region,
// every page.
func (s *Scan) each(ctx context.Context, fn func(*ecstypes.TaskDefinition) error) error {
	regions := s.Regions
	if len(regions) == 0 {
		regions = []string{""}
	}
	for _, region := range regions {
		inRegion := func(o *ecs.Options) {
			if region != "" {
				o.Region = region
			}
		}
		in := &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive}
		if s.PageSize > 0 {
			in.MaxResults = aws.Int32(s.PageSize)
		}
		p := ecs.NewListTaskDefinitionsPaginator(s.ECS, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx, inRegion)
			if err != nil {
				if region != "" {
					return fmt.Errorf("list task definitions in %s: %w", region, err)
				}
				return fmt.Errorf("list task definitions: %w", err)
			}
			for _, arn := range page.TaskDefinitionArns {
				d, err := s.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)}, inRegion)
				if err != nil {
					return fmt.Errorf("describe %s: %w", arn, err)
				}
				if err := fn(d.TaskDefinition); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Rebuild records every ACTIVE revision of account, which s walks, in ix,
// then marks the account swept: the sweep that catches what the index
// never saw. It returns how many revisions it recorded.
func Rebuild(ctx context.Context, account string, s *Scan, ix *Index) (int, error) {
	n := 0
	err := s.each(ctx, func(td *ecstypes.TaskDefinition) error {
		n++
		return ix.Record(ctx, &rules.TaskDefinition{
			ARN:              aws.ToString(td.TaskDefinitionArn),
			TaskRoleARN:      aws.ToString(td.TaskRoleArn),
			ExecutionRoleARN: aws.ToString(td.ExecutionRoleArn),
		})
	})
	if err != nil {
		return n, err
	}
	return n, ix.MarkSwept(ctx, account, time.Now())
}
