package guard

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	shclient "github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/ecsguard/ecsguard/shared/accounts"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/roleuse"
	"github.com/ecsguard/ecsguard/shared/securityhub"
)

// New builds a handler from its settings and an AWS configuration, once per
// process: the clients, the facts loader and its cache live across
// invocations. It counts the AWS calls made through cfg.
func New(c Config, cfg aws.Config, log *slog.Logger) *Handler {
	calls := &awsfacts.Calls{}
	calls.Count(&cfg)
	ecsClient := ecs.NewFromConfig(cfg)
	h := &Handler{
		Facts:  awsfacts.New(ecsClient, iam.NewFromConfig(cfg)),
		SNS:    sns.NewFromConfig(cfg),
		ECS:    ecsClient,
		Config: c,
		Log:    log,
		Calls:  calls,
		Scan:   &roleuse.Scan{ECS: ecsClient, Regions: c.Regions},
		Uses:   awsfacts.NewUseFinder(cfg),
	}
	h.Accounts = &accounts.Directory{Base: cfg, RoleName: c.MemberRoleName, Organization: c.Organization, Session: "ecsguard"}
	db := dynamodb.NewFromConfig(cfg)
	if c.IndexTable != "" {
		h.Index = &roleuse.Index{DB: db, Table: c.IndexTable}
	}
	if c.LedgerTable != "" {
		h.Ledger = &ledger.Ledger{DB: db, Table: c.LedgerTable}
	}
	if c.SecurityHub && c.LedgerTable != "" {
		h.Hub = &securityhub.Importer{Hub: shclient.NewFromConfig(cfg), DB: db, Table: c.LedgerTable}
	}
	return h
}

// MaxAttempts is how often a function's SDK clients try a call before the
// invocation fails for EventBridge to retry it.
const MaxAttempts = 5

// LoadAWSConfig is a function's AWS configuration: the Lambda environment's
// credentials and region (AWS_ENDPOINT_URL, when set, points the clients at
// an emulator), with the SDK's adaptive retry, as ecsguard scan has: a role
// change that describes many revisions at once slows down when AWS
// throttles instead of failing.
func LoadAWSConfig(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = MaxAttempts })
		})
	}))
}
