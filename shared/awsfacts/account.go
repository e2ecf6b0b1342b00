package awsfacts

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// Account reads every role of the account with the policies it uses, in
// bulk: one paginated pass of GetAccountAuthorizationDetails for the roles
// and the customer managed policies, then the default version of each AWS
// managed policy a role uses (a few, however many roles use them; asking
// the export for AWS managed policies would return all of them). The pages
// are decoded as `ecsguard check` decodes the AWS CLI's export of the same
// call. The error is non-nil only for a failure of the export itself.
func (l *Loader) Account(ctx context.Context) (*awsexport.Account, error) {
	var d struct {
		RoleDetailList []iamtypes.RoleDetail
		Policies       []iamtypes.ManagedPolicyDetail
	}
	pages := iam.NewGetAccountAuthorizationDetailsPaginator(l.iam, &iam.GetAccountAuthorizationDetailsInput{
		Filter:   []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy},
		MaxItems: l.maxItems(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("account authorization details: %w", err)
		}
		d.RoleDetailList = append(d.RoleDetailList, page.RoleDetailList...)
		d.Policies = append(d.Policies, page.Policies...)
	}

	have := map[string]bool{}
	for _, p := range d.Policies {
		have[aws.ToString(p.Arn)] = true
	}
	var needed []string
	for _, r := range d.RoleDetailList {
		arns := []string{}
		for _, a := range r.AttachedManagedPolicies {
			arns = append(arns, aws.ToString(a.PolicyArn))
		}
		if b := r.PermissionsBoundary; b != nil {
			arns = append(arns, aws.ToString(b.PermissionsBoundaryArn))
		}
		for _, arn := range arns {
			if !have[arn] && !slices.Contains(needed, arn) {
				needed = append(needed, arn)
			}
		}
	}
	for _, arn := range needed {
		p, err := l.policyDetail(ctx, arn)
		switch {
		case err == nil:
			d.Policies = append(d.Policies, p)
		case !Permanent(err):
			return nil, fmt.Errorf("policy %s: %w", arn, err)
		}
		// A policy that cannot be read is left out: the roles using it are
		// then incomplete, with the reason the export gives.
	}

	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return awsexport.DecodeAuthorizationDetails(b)
}

// policyDetail is a managed policy at its default version, as the export
// lists it.
func (l *Loader) policyDetail(ctx context.Context, arn string) (iamtypes.ManagedPolicyDetail, error) {
	got, err := l.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return iamtypes.ManagedPolicyDetail{}, err
	}
	v, err := l.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: got.Policy.DefaultVersionId})
	if err != nil {
		return iamtypes.ManagedPolicyDetail{}, err
	}
	return iamtypes.ManagedPolicyDetail{
		Arn: aws.String(arn), PolicyName: got.Policy.PolicyName, DefaultVersionId: got.Policy.DefaultVersionId,
		PolicyVersionList: []iamtypes.PolicyVersion{{Document: v.PolicyVersion.Document, VersionId: v.PolicyVersion.VersionId, IsDefaultVersion: true}},
	}, nil
}

// ScanOptions says which task definitions [Loader.TaskDefinitions] reads.
type ScanOptions struct {
	// AllRevisions reads every ACTIVE revision; otherwise the latest ACTIVE
	// revision of each family.
	AllRevisions bool
	// Workers is how many describes run at once (8 when 0).
	Workers int
	// Progress, when set, is called after each describe with the number
	// done and the total.
	Progress func(done, total int)
}

// TaskDefinitions reads the ACTIVE task definitions of the client's region:
// a list pass (ListTaskDefinitionFamilies, or ListTaskDefinitions with
// AllRevisions), then a DescribeTaskDefinition (with tags) for each, a few
// at once. Describing a family name gives its latest ACTIVE revision. A
// revision that cannot be described for a permanent reason is returned in
// missing; the error is non-nil for a transient failure that outlasted the
// retries.
func (l *Loader) TaskDefinitions(ctx context.Context, opts ScanOptions) (tds []*rules.TaskDefinition, missing []rules.FactError, err error) {
	var names []string
	if opts.AllRevisions {
		pages := ecs.NewListTaskDefinitionsPaginator(l.ecs, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive, MaxResults: l.maxResults()})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("list task definitions: %w", err)
			}
			names = append(names, page.TaskDefinitionArns...)
		}
	} else {
		pages := ecs.NewListTaskDefinitionFamiliesPaginator(l.ecs, &ecs.ListTaskDefinitionFamiliesInput{Status: ecstypes.TaskDefinitionFamilyStatusActive, MaxResults: l.maxResults()})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("list task definition families: %w", err)
			}
			names = append(names, page.Families...)
		}
	}

	workers := cmp.Or(opts.Workers, 8)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]*rules.TaskDefinition, len(names))
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	next := make(chan int)
	for range min(workers, len(names)) {
		wg.Go(func() {
			for i := range next {
				got, err := l.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
					TaskDefinition: aws.String(names[i]),
					Include:        []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
				})
				mu.Lock()
				switch {
				case err == nil:
					out[i] = taskDefinition(got.TaskDefinition, got.Tags)
				case Permanent(err):
					missing = append(missing, rules.FactError{Subject: names[i], Err: err})
				default:
					cancel(fmt.Errorf("task definition %s: %w", names[i], err))
				}
				done++
				if opts.Progress != nil {
					opts.Progress(done, len(names))
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range names {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	for _, td := range out {
		if td != nil {
			tds = append(tds, td)
		}
	}
	slices.SortFunc(tds, func(a, b *rules.TaskDefinition) int {
		return cmp.Or(strings.Compare(a.Family, b.Family), cmp.Compare(a.Revision, b.Revision))
	})
	return tds, missing, nil
}

func (l *Loader) maxResults() *int32 {
	if l.PageSize == 0 {
		return nil
	}
	return aws.Int32(l.PageSize)
}
