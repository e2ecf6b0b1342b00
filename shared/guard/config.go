package guard

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Modes.
const (
	ModeAlert   = "alert"
	ModeEnforce = "enforce"
)

// Config is a function's settings, from its environment.
type Config struct {
	// TopicARN is the SNS topic that receives the alerts (TOPIC_ARN).
	TopicARN string
	// Mode is "alert" (default) or "enforce" (MODE).
	Mode string
	// EnforceMinSeverity is the lowest severity that deregisters in enforce
	// mode (ENFORCE_MIN_SEVERITY, default HIGH).
	EnforceMinSeverity rules.Severity
	// DryRun logs and reports what enforcement would do without doing it
	// (DRY_RUN).
	DryRun bool
	// EnforceOnRoleChange lets a role change deregister (ENFORCE_ON_ROLE_CHANGE).
	EnforceOnRoleChange bool
	// SecurityHub imports every evaluation's findings into Security Hub
	// and resolves the ones that went away (SECURITY_HUB); it keeps what
	// it imported in LedgerTable, which it needs.
	SecurityHub bool
	// OwnRoleARNs are ecsguard's own roles: events they cause are ignored,
	// so that ecsguard never reacts to itself (ECSGUARD_ROLE_ARNS,
	// comma-separated).
	OwnRoleARNs []string
	// IndexTable is the DynamoDB table of roles and the revisions that use
	// them (INDEX_TABLE). Without it, onrolechange scans every ACTIVE
	// revision on each event.
	IndexTable string
	// Regions are the regions whose task definitions the sweep records
	// (REGIONS, comma-separated; default: the function's own): a
	// deployment that takes other regions' events forwarded sweeps them
	// too.
	Regions []string
	// LedgerTable is the DynamoDB table of event records
	// (IDEMPOTENCY_TABLE): with it, a duplicate or retried event neither
	// deregisters nor alerts twice. Without it, effects happen at least
	// once.
	LedgerTable string
	// WatchedAccounts are the accounts whose events the deployment handles
	// (WATCHED_ACCOUNTS, comma-separated); events of others are dropped.
	// Empty: every account.
	WatchedAccounts []string
	// ExemptionApprovers, when set, are the principals (ARNs, '*' allowed,
	// as rules.Approves reads them) whose exemption tags count
	// (EXEMPTION_APPROVERS, comma-separated): an exemption holds only when
	// the actor of the call that set its tags, as recorded in the event
	// ledger (LedgerTable), is one of them. Without a ledger, no exemption
	// holds. Empty: any exemption with a reason holds.
	ExemptionApprovers []string
	// KeyARN, RuleNames and AlarmTopicARN are ecsguard's own KMS key,
	// EventBridge rules and alarm topic (ECSGUARD_KEY_ARN,
	// ECSGUARD_RULE_NAMES, ALARM_TOPIC_ARN): a change to them, as to its
	// roles and findings topic, is alerted as tampering.
	KeyARN        string
	RuleNames     []string
	AlarmTopicARN string
	// MemberRoleName, in an organization, is the role the functions assume
	// in the account of an event that is not their own (MEMBER_ROLE_NAME);
	// a change to it is tampering. Empty: the own account only.
	MemberRoleName string
	// Organization is the organization's id (ORGANIZATION_ID): events of
	// accounts that are not its active members are dropped.
	Organization string
}

var (
	regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$`)
	accountID  = regexp.MustCompile(`^\d{12}$`)
	// https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
	organizationID = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
	iamRoleName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// list splits a comma-separated setting, dropping blanks and repeats.
func list(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// ConfigFromEnv reads the settings through getenv (os.Getenv in main, a map
// in tests) and says which one is wrong.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Mode: ModeAlert, EnforceMinSeverity: rules.High}
	var errs []error
	c.TopicARN = strings.TrimSpace(getenv("TOPIC_ARN"))
	if c.TopicARN == "" {
		errs = append(errs, errors.New("TOPIC_ARN is required: the SNS topic for alerts"))
	}
	switch m := strings.ToLower(strings.TrimSpace(getenv("MODE"))); m {
	case "", ModeAlert:
	case ModeEnforce:
		c.Mode = ModeEnforce
	default:
		errs = append(errs, fmt.Errorf("MODE %q: want %q or %q", m, ModeAlert, ModeEnforce))
	}
	if v := strings.TrimSpace(getenv("ENFORCE_MIN_SEVERITY")); v != "" {
		s, err := rules.ParseSeverity(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ENFORCE_MIN_SEVERITY: %w", err))
		}
		c.EnforceMinSeverity = s
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"DRY_RUN", &c.DryRun}, {"ENFORCE_ON_ROLE_CHANGE", &c.EnforceOnRoleChange}, {"SECURITY_HUB", &c.SecurityHub}} {
		if v := strings.TrimSpace(getenv(b.name)); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: want true or false", b.name, v))
			}
			*b.dst = x
		}
	}
	for _, arn := range strings.Split(getenv("ECSGUARD_ROLE_ARNS"), ",") {
		if arn = strings.TrimSpace(arn); arn != "" {
			c.OwnRoleARNs = append(c.OwnRoleARNs, arn)
		}
	}
	c.IndexTable = strings.TrimSpace(getenv("INDEX_TABLE"))
	c.LedgerTable = strings.TrimSpace(getenv("IDEMPOTENCY_TABLE"))
	if c.SecurityHub && c.LedgerTable == "" {
		errs = append(errs, errors.New("SECURITY_HUB needs IDEMPOTENCY_TABLE: the table that keeps which findings were imported"))
	}
	c.KeyARN = strings.TrimSpace(getenv("ECSGUARD_KEY_ARN"))
	c.AlarmTopicARN = strings.TrimSpace(getenv("ALARM_TOPIC_ARN"))
	c.RuleNames = list(getenv("ECSGUARD_RULE_NAMES"))
	c.ExemptionApprovers = list(getenv("EXEMPTION_APPROVERS"))
	for _, a := range c.ExemptionApprovers {
		if !strings.HasPrefix(a, "arn:") {
			errs = append(errs, fmt.Errorf("EXEMPTION_APPROVERS: %q is not a principal ARN", a))
		}
	}
	c.MemberRoleName = strings.TrimSpace(getenv("MEMBER_ROLE_NAME"))
	if c.MemberRoleName != "" && !iamRoleName.MatchString(c.MemberRoleName) {
		errs = append(errs, fmt.Errorf("MEMBER_ROLE_NAME %q is not a role name", c.MemberRoleName))
	}
	c.Organization = strings.TrimSpace(getenv("ORGANIZATION_ID"))
	switch {
	case c.Organization != "" && !organizationID.MatchString(c.Organization):
		errs = append(errs, fmt.Errorf("ORGANIZATION_ID %q is not an organization id (o-…)", c.Organization))
	case c.Organization != "" && c.MemberRoleName == "":
		errs = append(errs, errors.New("ORGANIZATION_ID needs MEMBER_ROLE_NAME: the role to assume in member accounts"))
	}
	for _, a := range list(getenv("WATCHED_ACCOUNTS")) {
		if !accountID.MatchString(a) {
			errs = append(errs, fmt.Errorf("WATCHED_ACCOUNTS: %q is not an account id", a))
		}
		c.WatchedAccounts = append(c.WatchedAccounts, a)
	}
	for _, r := range strings.Split(getenv("REGIONS"), ",") {
		switch r = strings.TrimSpace(r); {
		case r == "" || slices.Contains(c.Regions, r):
		case !regionName.MatchString(r):
			errs = append(errs, fmt.Errorf("REGIONS: %q is not a region", r))
		default:
			c.Regions = append(c.Regions, r)
		}
	}
	return c, errors.Join(errs...)
}
