package securityhub

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/ecsguard/ecsguard/shared/asff"
)

// BatchSize is the most findings one BatchImportFindings call takes
// (https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html).
const BatchSize = 100

// Importer sends findings to Security Hub and keeps what it left active in
// the event ledger table.
type Importer struct {
	Hub *securityhub.Client
	// DB and Table are the event ledger's table (shared/ledger), where
	// each subject's active findings are kept.
	DB    *dynamodb.Client
	Table string
}

// ImportError names the findings Security Hub refused, after one retry.
type ImportError struct {
	Failed []types.ImportFindingsError
}

func (e *ImportError) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for _, f := range e.Failed {
		parts = append(parts, fmt.Sprintf("%s (%s: %s)", aws.ToString(f.Id), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage)))
	}
	return fmt.Sprintf("security hub refused %d findings: %s", len(e.Failed), strings.Join(parts, "; "))
}

// Import sends findings in batches of [BatchSize]. The findings Security
// Hub fails in a batch (FailedFindings) are sent once more; those it fails
// again make an [*ImportError] that names them, so the invocation fails and
// EventBridge retries it: an import is idempotent by Id, nothing is lost.
func (im *Importer) Import(ctx context.Context, findings []asff.Finding) error {
	for batch := range slices.Chunk(findings, BatchSize) {
		failed, err := im.send(ctx, batch)
		if err != nil {
			return err
		}
		if len(failed) == 0 {
			continue
		}
		again := make([]asff.Finding, 0, len(failed))
		for _, f := range batch {
			if slices.ContainsFunc(failed, func(e types.ImportFindingsError) bool { return aws.ToString(e.Id) == f.ID }) {
				again = append(again, f)
			}
		}
		if failed, err = im.send(ctx, again); err != nil {
			return err
		}
		if len(failed) > 0 {
			return &ImportError{Failed: failed}
		}
	}
	return nil
}

func (im *Importer) send(ctx context.Context, batch []asff.Finding) ([]types.ImportFindingsError, error) {
	in := &securityhub.BatchImportFindingsInput{Findings: make([]types.AwsSecurityFinding, 0, len(batch))}
	for _, f := range batch {
		in.Findings = append(in.Findings, toSDK(f))
	}
	out, err := im.Hub.BatchImportFindings(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("security hub: import %d findings: %w", len(batch), err)
	}
	if aws.ToInt32(out.FailedCount) > 0 && len(out.FailedFindings) == 0 {
		return nil, fmt.Errorf("security hub: %d of %d findings failed, none named", aws.ToInt32(out.FailedCount), len(batch))
	}
	return out.FailedFindings, nil
}
