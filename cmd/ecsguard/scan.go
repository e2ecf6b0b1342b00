package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/logging"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// scanOptions are the parsed flags of scan.
type scanOptions struct {
	reportFlags
	region, profile, endpoint string
	// regions are the regions of --region R1,R2,...: ECS is read in each,
	// IAM (global) once per account. region is the first, the one the
	// configuration is loaded with.
	regions      []string
	allRevisions bool
	workers      int

	// Several accounts (organization.go): every ACTIVE account of the
	// organization, or the accounts listed (with organization, those of
	// them in it); the member role assumed in each, and how many
	// accounts are scanned at once.
	organization   bool
	accounts       []string
	roleName       string
	accountWorkers int
}

// multiAccount reports whether the scan covers several accounts.
func (o scanOptions) multiAccount() bool { return o.organization || len(o.accounts) > 0 }

func parseScanFlags(args []string) (scanOptions, error) {
	var opts scanOptions
	set := flag.NewFlagSet("scan", flag.ContinueOnError)
	set.StringVar(&opts.region, "region", "", "")
	set.StringVar(&opts.profile, "profile", "", "")
	set.StringVar(&opts.endpoint, "endpoint-url", "", "")
	set.BoolVar(&opts.allRevisions, "all-revisions", false, "")
	set.IntVar(&opts.workers, "workers", 8, "")
	var ids string
	set.BoolVar(&opts.organization, "organization", false, "")
	set.StringVar(&ids, "accounts", "", "")
	set.StringVar(&opts.roleName, "role-name", "ecsguard-audit", "")
	set.IntVar(&opts.accountWorkers, "account-workers", 4, "")
	if err := parseFlags(set, args, &opts.reportFlags); err != nil {
		return opts, err
	}
	if opts.workers < 1 || opts.workers > 64 {
		return opts, fmt.Errorf("--workers: %d is not between 1 and 64", opts.workers)
	}
	if opts.region != "" {
		for _, r := range strings.Split(opts.region, ",") {
			r = strings.ToLower(strings.TrimSpace(r))
			if !regionName.MatchString(r) {
				return opts, fmt.Errorf("--region: %q is not a region name such as us-east-1", r)
			}
			if !slices.Contains(opts.regions, r) {
				opts.regions = append(opts.regions, r)
			}
		}
		opts.region = opts.regions[0]
	}
	given := map[string]bool{}
	set.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["accounts"] {
		var err error
		if opts.accounts, err = parseAccountIDs(ids); err != nil {
			return opts, fmt.Errorf("--accounts: %w", err)
		}
	}
	switch {
	case !opts.multiAccount() && (given["role-name"] || given["account-workers"]):
		return opts, errors.New("--role-name and --account-workers need --organization or --accounts" + helpHint)
	case opts.accountWorkers < 1 || opts.accountWorkers > 64:
		return opts, fmt.Errorf("--account-workers: %d is not between 1 and 64", opts.accountWorkers)
	case opts.roleName == "":
		return opts, errors.New("--role-name: empty")
	}
	return opts, nil
}

func scan(args []string, stdout, stderr io.Writer) int {
	opts, err := parseScanFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: scan: %v\n", err)
		return exitUsage
	}
	ctx := context.Background()
	cfg, err := awsConfig(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: scan: %v\n", err)
		return exitUsage
	}
	if err := checkCredentials(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "ecsguard: scan: %v\n", err)
		return exitAWS
	}
	if opts.multiAccount() {
		return scanMany(ctx, cfg, opts, stdout, stderr)
	}
	var progress func(done, total int)
	if isTerminal(stderr) {
		progress = progressBar(stderr)
	}
	res, err := scanAccount(ctx, cfg, opts, progress)
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: scan: %v\n", explainAWSError(err))
		return exitAWS
	}
	err = output{reports: res.Reports, json: res, region: res.Summary.Region,
		text: func(w io.Writer) error { return writeText(w, res.Reports, opts.failOn, false) },
	}.write(stdout, opts.format)
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: writing the report: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "ecsguard: scanned %d task definitions and %d roles in %s with %d AWS calls\n",
		res.Summary.TaskDefinitions, res.Summary.Roles, res.Summary.Region, res.Summary.AWSCalls)
	if failed(res.Reports, opts.failOn) {
		return exitFindings
	}
	return exitOK
}

// awsConfig is the standard credential chain and region, with the flags'
// overrides, and the SDK's adaptive retry: a scan makes many calls at once,
// and adaptive mode slows down when AWS throttles instead of failing. A
// connection that cannot be opened is not retried (noDialRetry). The
// SDK's own log lines (an IMDSv1 fallback on a machine with no
// credentials) are dropped: what fails reaches the user as an error.
func awsConfig(ctx context.Context, opts scanOptions) (aws.Config, error) {
	load := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = 10
					so.Retryables = append([]retry.IsErrorRetryable{noDialRetry}, so.Retryables...)
				})
			})
		}),
		config.WithLogger(logging.Nop{}),
	}
	if opts.region != "" {
		load = append(load, config.WithRegion(opts.region))
	}
	if opts.profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if opts.endpoint != "" {
		cfg.BaseEndpoint = aws.String(opts.endpoint)
	}
	if cfg.Region == "" {
		return cfg, errors.New("no region: give --region, or set AWS_REGION or a profile's region")
	}
	return cfg, nil
}

// scanResult is what scan found: a report per subject and the summary.
type scanResult struct {
	Reports []rules.Report `json:"reports"`
	// UsedBy names, per role ARN, the EventBridge rules, schedules,
	// scalable targets and instance profiles that reference the role.
	UsedBy  map[string][]rules.Use `json:"usedBy"`
	Summary scanSummary            `json:"summary"`
}

type scanSummary struct {
	Account string `json:"account"`
	scanFigures
}

// scanFigures are what a scan of one account, or of several, covered and
// found, and what it cost.
type scanFigures struct {
	Region          string         `json:"region"`
	TaskDefinitions int            `json:"taskDefinitions"`
	Roles           int            `json:"roles"` // secondary ECS roles judged
	Subjects        int            `json:"subjects"`
	Incomplete      int            `json:"incomplete"`
	BySeverity      map[string]int `json:"bySeverity"` // unsuppressed findings
	ByRule          map[string]int `json:"byRule"`     // unsuppressed findings
	Suppressed      int            `json:"suppressed"`
	AWSCalls        int64          `json:"awsCalls"`
	Seconds         float64        `json:"seconds"`
}

// regionName is an AWS region name: us-east-1, eu-central-2, us-gov-west-1.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// scanRegions are the regions a scan reads ECS in: those of --region, or
// the configuration's.
func (o scanOptions) scanRegions(cfg aws.Config) []string {
	if len(o.regions) > 0 {
		return o.regions
	}
	return []string{cfg.Region}
}

// scanAccount reads the account in bulk (awsfacts: Account, TaskDefinitions)
// and judges it as check judges an export: IAM, which is global, once; ECS
// and what references roles (EventBridge, Scheduler, Application Auto
// Scaling) in each region, one region after the other.
func scanAccount(ctx context.Context, cfg aws.Config, opts scanOptions, progress func(done, total int)) (scanResult, error) {
	start := time.Now()
	calls := countCalls(&cfg)
	regions := opts.scanRegions(cfg)
	inRegion := make([]aws.Config, len(regions))
	for i, r := range regions {
		inRegion[i] = cfg.Copy()
		inRegion[i].Region = r
	}

	account, err := awsfacts.New(ecs.NewFromConfig(cfg), iam.NewFromConfig(cfg)).Account(ctx)
	if err != nil {
		return scanResult{}, err
	}
	usedBy, err := findUses(ctx, inRegion, account)
	if err != nil {
		return scanResult{}, err
	}
	var tds []*rules.TaskDefinition
	var unread []rules.Facts // the task definitions that could not be described
	for _, c := range inRegion {
		t, missing, err := awsfacts.New(ecs.NewFromConfig(c), iam.NewFromConfig(c)).
			TaskDefinitions(ctx, awsfacts.ScanOptions{AllRevisions: opts.allRevisions, Workers: opts.workers, Progress: progress})
		if err != nil {
			return scanResult{}, fmt.Errorf("%s: %w", c.Region, err)
		}
		tds = append(tds, t...)
		for _, m := range missing {
			unread = append(unread, rules.Facts{Region: c.Region, TaskDefinition: &rules.TaskDefinition{ARN: m.Subject}, Missing: []rules.FactError{m}})
		}
	}
	reports := evaluate(tds, account, true)
	for _, f := range unread {
		reports = append(reports, rules.Evaluate(f))
	}
	res := scanResult{Reports: reports, UsedBy: usedBy, Summary: scanSummary{scanFigures: summarize(reports)}}
	s := &res.Summary
	s.Region, s.TaskDefinitions, s.Roles = strings.Join(regions, ","), len(tds)+len(unread), len(reports)-len(tds)-len(unread)
	for _, r := range reports {
		if r.Account != "" {
			s.Account = r.Account
			break
		}
	}
	s.AWSCalls, s.Seconds = calls.Total(), time.Since(start).Round(time.Millisecond).Seconds()
	return res, nil
}

// countCalls counts the calls made through cfg from now on. The
// configurations of several accounts are copies of one, sharing its
// APIOptions array: clipped, the counter's append cannot write into it.
func countCalls(cfg *aws.Config) *awsfacts.Calls {
	cfg.APIOptions = slices.Clip(cfg.APIOptions)
	calls := &awsfacts.Calls{}
	calls.Count(cfg)
	return calls
}

// findUses classifies roles by what references them, as onrolechange does:
// the EventBridge rules and schedules that run ECS tasks with a role, the
// scalable targets registered with it (each list read once per region, and
// only when some role trusts its service), the instance profiles the export
// lists. A reference that cannot be read leaves the role incomplete.
func findUses(ctx context.Context, inRegion []aws.Config, account *awsexport.Account) (map[string][]rules.Use, error) {
	lookups := make([]*awsfacts.UseLookup, len(inRegion))
	for i, c := range inRegion {
		lookups[i] = awsfacts.NewUseFinder(c).Begin()
	}
	out := map[string][]rules.Use{}
	for _, arn := range slices.Sorted(maps.Keys(account.Roles)) {
		role := account.Roles[arn]
		profiles := slices.DeleteFunc(slices.Clone(role.Uses), func(u rules.Use) bool { return u.Kind != rules.UseInstanceProfile })
		if role.Trusts("events.amazonaws.com") || role.Trusts("scheduler.amazonaws.com") || role.Trusts("application-autoscaling.amazonaws.com") {
			var uses []rules.Use
			for _, lookup := range lookups {
				missing, err := lookup.Fill(ctx, role) // sets role.Uses to the region's
				if err != nil {
					return nil, err
				}
				account.Missing[arn] = append(account.Missing[arn], missing...)
				uses = append(uses, role.Uses...)
			}
			if !role.Trusts("ec2.amazonaws.com") {
				uses = append(uses, profiles...) // Fill looks up profiles only for EC2 roles
			}
			slices.SortFunc(uses, func(a, b rules.Use) int {
				return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Resource, b.Resource))
			})
			role.Uses = slices.Compact(uses) // an EC2 role's profiles come from every region's lookup
		}
		if len(role.Uses) > 0 {
			out[arn] = role.Uses
		}
	}
	return out, nil
}

// summarize counts the subjects and the unsuppressed findings by severity
// and by rule.
func summarize(reports []rules.Report) scanFigures {
	s := scanFigures{Subjects: len(reports), BySeverity: map[string]int{}, ByRule: map[string]int{}}
	for _, r := range reports {
		if !r.Complete {
			s.Incomplete++
		}
		for _, f := range r.Findings {
			if f.Suppressed {
				s.Suppressed++
				continue
			}
			s.BySeverity[f.Severity.String()]++
			s.ByRule[f.Rule]++
		}
	}
	return s
}

// isTerminal reports whether w is a terminal, where a progress bar helps.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar redraws one line: "describing task definitions [=====>    ] 412/1000".
func progressBar(w io.Writer) func(done, total int) {
	return labelledBar(w, "describing task definitions")
}

// labelledBar is a progress bar of what label says.
func labelledBar(w io.Writer, label string) func(done, total int) {
	const width = 30
	return func(done, total int) {
		filled := width * done / max(total, 1)
		bar := make([]byte, width)
		for i := range bar {
			switch {
			case i < filled:
				bar[i] = '='
			case i == filled:
				bar[i] = '>'
			default:
				bar[i] = ' '
			}
		}
		fmt.Fprintf(w, "\r%s [%s] %d/%d", label, bar, done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
