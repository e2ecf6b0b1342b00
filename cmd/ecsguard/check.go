package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/sarif"
)

// Exit codes.
const (
	exitOK       = 0 // no unsuppressed finding at or above --fail-on
	exitFindings = 1 // at least one
	exitUsage    = 2 // bad input: flags, unreadable or malformed files
	exitAWS      = 3 // scan: AWS calls failed (credentials, throttling beyond the retries)
)

const usage = `usage: ecsguard <command> [flags]

commands:
  check   check ECS task definitions and roles in AWS CLI export files
  scan    check every ACTIVE task definition and secondary ECS role of a live account
  version print ecsguard's version (also: ecsguard --version)
  help    show this help

ecsguard check --iam IAM.json [--task-definition TD.json ...] [--template FILE ...] [--all-roles]
               [--format text|json|sarif|asff] [--fail-on SEVERITY]
ecsguard check --template FILE [--template FILE ...] [--iam IAM.json] [--format ...] [--fail-on ...]

  --iam FILE              output of: aws iam get-account-authorization-details (required
                          without --template)
  --task-definition FILE  output of: aws ecs describe-task-definition --include TAGS --task-definition NAME
                          (repeatable; a task role used by several families is reported by TD-013)
  --template FILE         a CloudFormation template, JSON or YAML, such as cdk.out/STACK.template.json
                          (repeatable): its task definitions with the roles it defines, and its
                          secondary ECS roles; a role it only references is read from --iam
  --all-roles             also judge every secondary ECS role of the export, not only those the
                          task definitions reference
  --format text|json|sarif|asff
                          report format (default text); json is an array of finding reports,
                          sarif a SARIF 2.1.0 log for code scanning, its results at the lines
                          of the input files that define each task definition and role,
                          asff a JSON array of AWS Security Finding Format findings, as the
                          functions import them into Security Hub (a role's region: the first
                          task definition's, else AWS_REGION, else us-east-1)
  --fail-on SEVERITY      exit 1 when an unsuppressed finding is at or above SEVERITY:
                          INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL (default HIGH)

check judges each task definition with its task and execution roles, and the
secondary ECS roles (events, autoscaling, instance, service and CodeDeploy roles;
service-linked roles are never judged) that the task definitions reference; with
--all-roles every secondary role of the export. Without --task-definition or
--template it judges every secondary role of the export. Flag values are case-insensitive.

ecsguard scan [--region R,...] [--profile P] [--endpoint-url URL] [--all-revisions] [--workers N]
              [--organization] [--accounts ID,...] [--role-name NAME] [--account-workers N]
              [--format text|json|sarif|asff] [--fail-on SEVERITY]

  --region R,...          the regions to scan (default: AWS_REGION or the profile's region); with
                          several, IAM is read once per account and ECS in each region in turn
  --profile P             a profile of the shared AWS configuration (default: the standard chain)
  --endpoint-url URL      send every call to URL (a local emulator)
  --all-revisions         judge every ACTIVE revision, not only the latest of each family
  --workers N             task definitions described at once, per account and region (default 8; adaptive
                          retry on throttling)
  --organization          scan every ACTIVE account of the AWS Organization (organizations:ListAccounts;
                          the others are reported skipped, with their state)
  --accounts ID,...       scan these accounts (12-digit ids); with --organization, those of them in it
  --role-name NAME        the role assumed in each account (default ecsguard-audit); the
                          account of the credentials is scanned with them
  --account-workers N     accounts scanned at once (default 4)
  --format text|json|sarif|asff
                          report format (default text); json is {"reports":[...],"summary":{...}},
                          with several accounts also "accounts":[...], a summary per account;
                          sarif as for check, its results located by ARN only; asff as for check
  --fail-on SEVERITY      as for check

scan reads the account in bulk: IAM in one paginated pass of
GetAccountAuthorizationDetails, ECS by listing the task definition families (or
revisions) and describing each. It needs iam:GetAccountAuthorizationDetails,
iam:GetPolicy, iam:GetPolicyVersion, ecs:ListTaskDefinitionFamilies,
ecs:ListTaskDefinitions and ecs:DescribeTaskDefinition; to find what references
a secondary role, ecs:ListClusters, events:List*, scheduler:ListSchedules,
scheduler:GetSchedule and application-autoscaling:DescribeScalableTargets (a
reference it may not read leaves that role incomplete). A progress bar is drawn
when stderr is a terminal: of task definitions, or with several accounts of accounts.

exit status: 0 no unsuppressed finding at or above --fail-on, 1 at least one or an
incomplete evaluation (a role or policy missing from the export), 2 bad input or usage,
3 (scan) AWS calls failed: with several accounts, an account failed (its role could not
be assumed, or its calls failed) while the others were scanned and reported.
`

// run is the whole command: args without the program name, the streams to
// write to, and the exit code it returns.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return check(args[1:], stdout, stderr)
	case "scan":
		return scan(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "ecsguard %s\n", version())
		return exitOK
	}
	fmt.Fprintf(stderr, "ecsguard: unknown command %q%s\n", args[0], helpHint)
	return exitUsage
}

const helpHint = ` (run "ecsguard help")`

// formats are the values of --format, matched case-insensitively.
var formats = []string{"text", "json", "sarif", "asff"}

// reportFlags are the flags check and scan share: how to print the
// report, and when to fail.
type reportFlags struct {
	format     string
	failOn     rules.Severity
	failOnName string
}

// parseFlags adds the report flags to set, parses args, and checks what
// the commands share: no argument left, a known format and severity.
func parseFlags(set *flag.FlagSet, args []string, r *reportFlags) error {
	set.SetOutput(io.Discard)
	set.StringVar(&r.format, "format", "text", "")
	set.StringVar(&r.failOnName, "fail-on", "HIGH", "")
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w%s", err, helpHint)
	}
	switch {
	case set.NArg() > 0:
		return fmt.Errorf("unexpected argument %q%s", set.Arg(0), helpHint)
	case !slices.Contains(formats, strings.ToLower(r.format)):
		return fmt.Errorf("--format: unknown format %q (want %s or %s)", r.format, strings.Join(formats[:len(formats)-1], ", "), formats[len(formats)-1])
	}
	r.format = strings.ToLower(r.format)
	sev, err := rules.ParseSeverity(r.failOnName)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	r.failOn = sev
	return nil
}

// checkOptions are the parsed flags of check.
type checkOptions struct {
	reportFlags
	taskDefinitions []string
	templates       []string
	iam             string
	allRoles        bool
}

// files is a repeatable string flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func parseCheckFlags(args []string) (checkOptions, error) {
	var opts checkOptions
	set := flag.NewFlagSet("check", flag.ContinueOnError)
	set.Var((*files)(&opts.taskDefinitions), "task-definition", "")
	set.StringVar(&opts.iam, "iam", "", "")
	set.BoolVar(&opts.allRoles, "all-roles", false, "")
	set.Var((*files)(&opts.templates), "template", "")
	if err := parseFlags(set, args, &opts.reportFlags); err != nil {
		return opts, err
	}
	if opts.iam == "" && len(opts.templates) == 0 {
		return opts, errors.New("--iam or --template is required" + helpHint)
	}
	return opts, nil
}

func check(args []string, stdout, stderr io.Writer) int {
	opts, err := parseCheckFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: check: %v\n", err)
		return exitUsage
	}

	src := sources{}
	tds := make([]*rules.TaskDefinition, 0, len(opts.taskDefinitions))
	for _, path := range opts.taskDefinitions {
		td, data, err := load(path, awsexport.DecodeTaskDefinition)
		if err != nil {
			fmt.Fprintf(stderr, "ecsguard: %s: %v\n", path, err)
			return exitUsage
		}
		tds = append(tds, td)
		src.addTaskDefinition(path, data, td.ARN)
	}
	account := &awsexport.Account{}
	if opts.iam != "" {
		var data []byte
		account, data, err = load(opts.iam, awsexport.DecodeAuthorizationDetails)
		if err != nil {
			fmt.Fprintf(stderr, "ecsguard: %s: %v\n", opts.iam, err)
			return exitUsage
		}
		src.addAuthorizationDetails(opts.iam, data)
	}
	templates, err := loadTemplates(opts.templates, account, src, stderr)
	if err != nil {
		return exitUsage
	}
	var notes []string
	for _, note := range account.Notes {
		notes = append(notes, opts.iam+": "+note)
		fmt.Fprintf(stderr, "ecsguard: %s: %s\n", opts.iam, note)
	}

	// Without task definitions or templates, the secondary roles are all
	// check judges.
	reports := evaluate(tds, account, opts.allRoles || len(tds) == 0 && len(templates) == 0)
	reports = append(reports, evaluateTemplates(templates, account)...)
	err = output{reports: reports, json: reports,
		sarif: sarif.Options{Locate: src.locate, Notes: notes},
		text:  func(w io.Writer) error { return writeText(w, reports, opts.failOn, account.Truncated) },
	}.write(stdout, opts.format)
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: writing the report: %v\n", err)
		return exitUsage
	}
	if failed(reports, opts.failOn) {
		return exitFindings
	}
	return exitOK
}

// load reads and decodes one input file, and returns its bytes too (for
// the positions of what it defines). A read error is given without the
// path, which the caller's message already names.
func load[T any](path string, decode func([]byte) (T, error)) (T, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var zero T
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return zero, nil, err
	}
	v, err := decode(b)
	return v, b, err
}

// evaluate builds the facts of every subject and judges them: the task
// definitions in argument order, then the secondary ECS roles by ARN, all
// of them or only those the task definitions reference. The facts of a
// task definition are assembled as the functions assemble them
// (rules.Assemble), from the export.
func evaluate(tds []*rules.TaskDefinition, account *awsexport.Account, allRoles bool) []rules.Report {
	ctx := context.Background()
	cache := rules.NewCache()
	var facts []rules.Facts
	families := make(map[string][]string)
	referenced := make(map[string]bool)
	for _, td := range tds {
		for _, ref := range []string{td.TaskRoleARN, td.ExecutionRoleARN} {
			if role, _ := account.Role(ref); ref != "" && role != nil {
				referenced[role.ARN] = true
			}
		}
		f, _ := rules.Assemble(ctx, td, exportRoles{account}) // an export never fails transiently
		f.Cache = cache
		facts = append(facts, f)
		if arn := td.TaskRoleARN; arn != "" && !slices.Contains(families[arn], td.Family) {
			families[arn] = append(families[arn], td.Family)
		}
	}
	reports := make([]rules.Report, 0, len(tds))
	for _, f := range facts {
		f.Families = families
		reports = append(reports, rules.Evaluate(f))
	}
	for _, arn := range slices.Sorted(maps.Keys(account.Roles)) {
		role, missing := account.Role(arn)
		if len(rules.SecondaryClasses(role)) == 0 || !allRoles && !referenced[arn] {
			continue
		}
		reports = append(reports, rules.Evaluate(rules.Facts{Account: arnAccount(arn), Role: role, Missing: missing, Cache: cache}))
	}
	return reports
}

// exportRoles reads roles from an export, for rules.Assemble.
type exportRoles struct{ a *awsexport.Account }

func (e exportRoles) Role(_ context.Context, ref string) (*rules.Role, []rules.FactError, error) {
	role, missing := e.a.Role(ref)
	return role, missing, nil
}

// arnAccount returns the account field of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// failed reports whether an unsuppressed finding is at or above min.
func failed(reports []rules.Report, min rules.Severity) bool {
	// An incomplete evaluation fails whatever the threshold: what could not
	// be read is never reported as compliant.
	return slices.ContainsFunc(reports, func(r rules.Report) bool { return !r.Complete || r.Highest() >= min })
}
