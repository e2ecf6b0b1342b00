package main

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Settings are the deployment's choices, read from CDK context (cdk.json,
// or -c key=value on the command line). Every one has a safe default: the
// guardrail deploys in alert mode, deregistering nothing.
type Settings struct {
	// Mode is "alert" (default) or "enforce".
	Mode string
	// EnforceMinSeverity is the lowest severity that deregisters in enforce
	// mode: CRITICAL, HIGH (default), MEDIUM or LOW.
	EnforceMinSeverity string
	// DryRun reports "would deregister" instead of deregistering.
	DryRun bool
	// EnforceOnRoleChange lets onrolechange deregister too (enforce mode).
	EnforceOnRoleChange bool
	// SecurityHub imports the findings into Security Hub (SECURITY_HUB),
	// granting the functions securityhub:BatchImportFindings on the
	// account's default product and nothing else of Security Hub.
	SecurityHub bool
	// Emails are subscribed to the findings topic (each must confirm).
	Emails []string
	// EmailMinSeverity, when set, is the lowest severity of the findings
	// mailed to Emails (a subscription filter policy on the message
	// attribute severity). Empty: every message.
	EmailMinSeverity string
	// ExemptionApprovers are the IAM principals (ARNs, or patterns with *)
	// whose tagging makes an ecsguard:exempt tag count. Empty: any tagger.
	ExemptionApprovers []string
	// SlackWorkspaceID and SlackChannelID, together, deliver the findings
	// to a Slack channel through AWS Chatbot. The workspace must have been
	// authorised in the Chatbot console once.
	SlackWorkspaceID, SlackChannelID string
	// HomeRegion holds the functions, the topic and the index (default
	// us-east-1, where IAM events arrive).
	HomeRegion string
	// Regions are watched for task definition registrations; each other
	// than HomeRegion forwards its ECS events to HomeRegion's bus. Default:
	// HomeRegion alone. In organization mode the member regions are
	// watched in the home account too.
	Regions []string
	// LogRetentionDays keeps the functions' logs (default 365).
	LogRetentionDays int
	// SweepSchedule is the EventBridge schedule of the role index sweep
	// (default "rate(1 day)").
	SweepSchedule string
	// AssetDir is where make build put onregister/bootstrap and
	// onrolechange/bootstrap (default ../bin, from infra/).
	AssetDir string
	// Deployment is "account" (default: the guardrail watches the account
	// it is deployed to) or "organization" (it watches every account of
	// the target OUs, docs/organization.md).
	Deployment string
	// Organization holds the settings of organization mode; empty in
	// account mode.
	Organization Organization
}

// Organization is what organization mode needs to know of the
// organization: which one, where to deploy the member stack, and how the
// functions reach into the member accounts.
type Organization struct {
	// ID is the organization's id, o-xxxxxxxxxx (ORGANIZATION_ID): the
	// central bus admits its accounts alone, the functions assume only its
	// roles and drop the events of other accounts.
	ID string
	// MemberRoleName is the role the functions assume in a member account
	// (MEMBER_ROLE_NAME; default ecsguard-member).
	MemberRoleName string
	// TargetOUs are the OUs (ou-...) or the root (r-...) whose accounts
	// get the member stack, now and when they join.
	TargetOUs []string
	// MemberRegions get the member stack (default: Regions). us-east-1 is
	// always one: AWS delivers IAM events there alone.
	MemberRegions []string
	// Accounts, when set, are the only accounts whose events the
	// functions handle (WATCHED_ACCOUNTS). Empty: every account of the
	// organization.
	Accounts []string
	// StackSetCallAs is DELEGATED_ADMIN (default: the home account is a
	// delegated administrator of StackSets) or SELF (it is the management
	// account).
	StackSetCallAs string
}

// The context keys, all under the "ecsguard:" prefix.
const (
	ctxMode                = "ecsguard:mode"
	ctxEnforceMinSeverity  = "ecsguard:enforceMinSeverity"
	ctxDryRun              = "ecsguard:dryRun"
	ctxEnforceOnRoleChange = "ecsguard:enforceOnRoleChange"
	ctxSecurityHub         = "ecsguard:securityHub"
	ctxEmails              = "ecsguard:emails"
	ctxEmailMinSeverity    = "ecsguard:emailMinSeverity"
	ctxExemptionApprovers  = "ecsguard:exemptionApprovers"
	ctxSlackWorkspaceID    = "ecsguard:slackWorkspaceId"
	ctxSlackChannelID      = "ecsguard:slackChannelId"
	ctxHomeRegion          = "ecsguard:homeRegion"
	ctxRegions             = "ecsguard:regions"
	ctxLogRetentionDays    = "ecsguard:logRetentionDays"
	ctxSweepSchedule       = "ecsguard:sweepSchedule"
	ctxAssetDir            = "ecsguard:assetDir"
	ctxDeployment          = "ecsguard:deployment"
	ctxOrganizationID      = "ecsguard:organizationId"
	ctxMemberRoleName      = "ecsguard:memberRoleName"
	ctxTargetOUs           = "ecsguard:targetOus"
	ctxMemberRegions       = "ecsguard:memberRegions"
	ctxAccounts            = "ecsguard:accounts"
	ctxStackSetCallAs      = "ecsguard:stackSetCallAs"
)

// The deployment modes.
const (
	deployAccount      = "account"
	deployOrganization = "organization"
)

// maxApproversLength leaves room for the other variables in the 4 KB of
// environment Lambda allows a function.
const maxApproversLength = 2048

// iamRegion is where AWS delivers IAM events to EventBridge.
const iamRegion = "us-east-1"

// logRetentions are the values CloudWatch Logs accepts.
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// severities are Security Hub's, highest first (SPEC §3).
var severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"}

var (
	regionPattern   = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$`)
	schedulePattern = regexp.MustCompile(`^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$`)
	slackWorkspace  = regexp.MustCompile(`^[0-9A-Z]{1,255}$`)
	slackChannel    = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	// approverPattern is an IAM principal an event names as its actor, or
	// a pattern of one: a role or user (with its path), a role session
	// (assumed-role/ROLE/SESSION) or an account root. * may stand for any
	// run of name characters; the account is always spelled out, so an
	// approval can never come from another account. IAM names hold
	// letters, digits and +=,.@_- (a comma is refused below: the list
	// reaches the functions comma-separated).
	// The identifiers of AWS Organizations (API reference, Organization,
	// OrganizationalUnit, Root, Account) and of IAM role names (IAM
	// CreateRole, RoleName).
	organizationID  = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	targetOU        = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)
	accountID       = regexp.MustCompile(`^\d{12}$`)
	roleName        = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	approverPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-iso[a-z-]*)?:(` +
		`iam::\d{12}:(root|(role|user)/([\w+=,.@*-]+/)*[\w+=,.@*-]+)|` +
		`sts::\d{12}:assumed-role/[\w+=,.@*-]+/[\w+=,.@*-]+)$`)
)

// ParseSettings reads the settings through context, which returns a
// context value or nil (app.Node().TryGetContext in main). A value may be
// a string (as -c gives it), or a JSON boolean, number or list (as cdk.json
// gives it). Every problem is reported, not only the first.
func ParseSettings(context func(key string) any) (Settings, error) {
	s := Settings{
		Mode: "alert", EnforceMinSeverity: "HIGH", HomeRegion: iamRegion,
		LogRetentionDays: 365, SweepSchedule: "rate(1 day)", AssetDir: "../bin",
	}
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("context %s: "+format, append([]any{key}, args...)...))
	}
	str := func(key string, into *string) {
		switch v := context(key).(type) {
		case nil:
		case string:
			if v = strings.TrimSpace(v); v != "" {
				*into = v
			}
		default:
			bad(key, "want a string, got %v", v)
		}
	}
	boolean := func(key string, into *bool) {
		switch v := context(key).(type) {
		case nil:
		case bool:
			*into = v
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				bad(key, "want true or false, got %q", v)
			}
			*into = b
		default:
			bad(key, "want true or false, got %v", v)
		}
	}
	list := func(key string) []string {
		var items []string
		switch v := context(key).(type) {
		case nil:
		case string:
			items = strings.Split(v, ",")
		case []any:
			for _, x := range v {
				s, ok := x.(string)
				if !ok {
					bad(key, "want a list of strings, got %v", x)
					continue
				}
				items = append(items, s)
			}
		default:
			bad(key, "want a list or a comma-separated string, got %v", v)
		}
		var out []string
		for _, it := range items {
			if it = strings.TrimSpace(it); it != "" && !slices.Contains(out, it) {
				out = append(out, it)
			}
		}
		return out
	}

	str(ctxMode, &s.Mode)
	if s.Mode = strings.ToLower(s.Mode); s.Mode != "alert" && s.Mode != "enforce" {
		bad(ctxMode, "want alert or enforce, got %q", s.Mode)
	}
	str(ctxEnforceMinSeverity, &s.EnforceMinSeverity)
	if s.EnforceMinSeverity = strings.ToUpper(s.EnforceMinSeverity); !slices.Contains([]string{"CRITICAL", "HIGH", "MEDIUM", "LOW"}, s.EnforceMinSeverity) {
		bad(ctxEnforceMinSeverity, "want CRITICAL, HIGH, MEDIUM or LOW, got %q", s.EnforceMinSeverity)
	}
	boolean(ctxDryRun, &s.DryRun)
	boolean(ctxEnforceOnRoleChange, &s.EnforceOnRoleChange)
	boolean(ctxSecurityHub, &s.SecurityHub)

	s.Emails = list(ctxEmails)
	for _, e := range s.Emails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			bad(ctxEmails, "%q is not an email address", e)
		}
	}
	str(ctxEmailMinSeverity, &s.EmailMinSeverity)
	if s.EmailMinSeverity = strings.ToUpper(s.EmailMinSeverity); s.EmailMinSeverity != "" && !slices.Contains(severities, s.EmailMinSeverity) {
		bad(ctxEmailMinSeverity, "want one of %s, got %q", strings.Join(severities, ", "), s.EmailMinSeverity)
	}
	s.ExemptionApprovers = list(ctxExemptionApprovers)
	for _, a := range s.ExemptionApprovers {
		switch {
		case strings.Contains(a, ","):
			bad(ctxExemptionApprovers, "%q holds a comma, which EXEMPTION_APPROVERS (comma-separated) cannot carry", a)
		case !approverPattern.MatchString(a):
			bad(ctxExemptionApprovers, "%q is not the ARN of an IAM role, user, role session or account root (or a pattern of one with *)", a)
		}
	}
	if n := len(strings.Join(s.ExemptionApprovers, ",")); n > maxApproversLength {
		bad(ctxExemptionApprovers, "%d characters: Lambda holds 4 KB of environment per function, keep the list under %d", n, maxApproversLength)
	}
	str(ctxSlackWorkspaceID, &s.SlackWorkspaceID)
	str(ctxSlackChannelID, &s.SlackChannelID)
	switch {
	case (s.SlackWorkspaceID == "") != (s.SlackChannelID == ""):
		bad(ctxSlackChannelID, "set both %s and %s, or neither", ctxSlackWorkspaceID, ctxSlackChannelID)
	case s.SlackWorkspaceID != "" && !slackWorkspace.MatchString(s.SlackWorkspaceID):
		bad(ctxSlackWorkspaceID, "%q is not a Slack workspace id (such as T012ABCDEF3)", s.SlackWorkspaceID)
	case s.SlackChannelID != "" && !slackChannel.MatchString(s.SlackChannelID):
		bad(ctxSlackChannelID, "%q is not a Slack channel id (such as C012ABCDEF3)", s.SlackChannelID)
	}

	str(ctxHomeRegion, &s.HomeRegion)
	if !regionPattern.MatchString(s.HomeRegion) {
		bad(ctxHomeRegion, "%q is not a region", s.HomeRegion)
	}
	s.Regions = list(ctxRegions)
	for _, r := range s.Regions {
		if !regionPattern.MatchString(r) {
			bad(ctxRegions, "%q is not a region", r)
		}
	}
	if !slices.Contains(s.Regions, s.HomeRegion) {
		// The home region's own registrations are always watched.
		s.Regions = append([]string{s.HomeRegion}, s.Regions...)
	}

	switch v := context(ctxLogRetentionDays).(type) {
	case nil:
	case float64:
		s.LogRetentionDays = int(v)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			bad(ctxLogRetentionDays, "want a number of days, got %q", v)
		}
		s.LogRetentionDays = n
	default:
		bad(ctxLogRetentionDays, "want a number of days, got %v", v)
	}
	if !slices.Contains(logRetentions, s.LogRetentionDays) {
		bad(ctxLogRetentionDays, "CloudWatch Logs keeps logs for one of %v days, not %d", logRetentions, s.LogRetentionDays)
	}
	str(ctxSweepSchedule, &s.SweepSchedule)
	if !schedulePattern.MatchString(s.SweepSchedule) {
		bad(ctxSweepSchedule, "want rate(N unit) or cron(...), got %q", s.SweepSchedule)
	}
	str(ctxAssetDir, &s.AssetDir)

	if s.Mode != "enforce" && (s.DryRun || s.EnforceOnRoleChange) {
		bad(ctxMode, "%s and %s only apply with mode enforce", ctxDryRun, ctxEnforceOnRoleChange)
	}

	s.Deployment = deployAccount
	str(ctxDeployment, &s.Deployment)
	org := Organization{MemberRoleName: "ecsguard-member", StackSetCallAs: "DELEGATED_ADMIN"}
	str(ctxOrganizationID, &org.ID)
	str(ctxMemberRoleName, &org.MemberRoleName)
	org.TargetOUs = list(ctxTargetOUs)
	org.MemberRegions = list(ctxMemberRegions)
	org.Accounts = list(ctxAccounts)
	str(ctxStackSetCallAs, &org.StackSetCallAs)
	switch s.Deployment = strings.ToLower(s.Deployment); s.Deployment {
	case deployAccount:
		// An organization setting left in cdk.json by mistake would
		// otherwise be ignored silently.
		for _, key := range []string{ctxOrganizationID, ctxMemberRoleName, ctxTargetOUs, ctxMemberRegions, ctxAccounts, ctxStackSetCallAs} {
			switch v := context(key).(type) {
			case nil:
			case string:
				if strings.TrimSpace(v) != "" {
					bad(key, "only applies with %s %s", ctxDeployment, deployOrganization)
				}
			case []any:
				if len(v) > 0 {
					bad(key, "only applies with %s %s", ctxDeployment, deployOrganization)
				}
			default:
				bad(key, "only applies with %s %s", ctxDeployment, deployOrganization)
			}
		}
	case deployOrganization:
		switch {
		case org.ID == "":
			bad(ctxOrganizationID, "required with %s %s (o- and 10 to 32 lower-case letters or digits)", ctxDeployment, deployOrganization)
		case !organizationID.MatchString(org.ID):
			bad(ctxOrganizationID, "%q is not an organization id (o- and 10 to 32 lower-case letters or digits)", org.ID)
		}
		if !roleName.MatchString(org.MemberRoleName) {
			bad(ctxMemberRoleName, "%q is not an IAM role name (1 to 64 letters, digits and +=,.@_-)", org.MemberRoleName)
		}
		if len(org.TargetOUs) == 0 {
			bad(ctxTargetOUs, "required with %s %s: the OUs (ou-...) or the root (r-...) whose accounts get the member stack", ctxDeployment, deployOrganization)
		}
		for _, ou := range org.TargetOUs {
			if !targetOU.MatchString(ou) {
				bad(ctxTargetOUs, "%q is not an OU id (ou-...) or a root id (r-...)", ou)
			}
		}
		for _, r := range org.MemberRegions {
			if !regionPattern.MatchString(r) {
				bad(ctxMemberRegions, "%q is not a region", r)
			}
		}
		if len(org.MemberRegions) == 0 {
			org.MemberRegions = slices.Clone(s.Regions)
		}
		if !slices.Contains(org.MemberRegions, iamRegion) {
			// IAM events of the member accounts arrive there alone.
			org.MemberRegions = append(org.MemberRegions, iamRegion)
		}
		// The home account is watched wherever the members are.
		for _, r := range org.MemberRegions {
			if !slices.Contains(s.Regions, r) {
				s.Regions = append(s.Regions, r)
			}
		}
		for _, a := range org.Accounts {
			if !accountID.MatchString(a) {
				bad(ctxAccounts, "%q is not an account id (12 digits)", a)
			}
		}
		// WATCHED_ACCOUNTS shares the room EXEMPTION_APPROVERS leaves in
		// the functions' 4 KB of environment.
		if n := len(strings.Join(org.Accounts, ",")) + len(strings.Join(s.ExemptionApprovers, ",")); n > maxApproversLength {
			bad(ctxAccounts, "%d characters with %s: Lambda holds 4 KB of environment per function, keep both lists under %d together", n, ctxExemptionApprovers, maxApproversLength)
		}
		if org.StackSetCallAs = strings.ToUpper(org.StackSetCallAs); org.StackSetCallAs != "SELF" && org.StackSetCallAs != "DELEGATED_ADMIN" {
			bad(ctxStackSetCallAs, "want SELF (the management account) or DELEGATED_ADMIN (a delegated administrator), got %q", org.StackSetCallAs)
		}
		s.Organization = org
	default:
		bad(ctxDeployment, "want %s or %s, got %q", deployAccount, deployOrganization, s.Deployment)
	}
	return s, errors.Join(errs...)
}

// OrganizationMode tells whether the deployment guards an organization.
func (s Settings) OrganizationMode() bool { return s.Deployment == deployOrganization }

// ForwardingRegions are the regions that need a forwarding stack: every
// watched region other than the home region, and us-east-1 for IAM events
// when the home region is elsewhere.
func (s Settings) ForwardingRegions() []string {
	var out []string
	for _, r := range s.Regions {
		if r != s.HomeRegion {
			out = append(out, r)
		}
	}
	if s.HomeRegion != iamRegion && !slices.Contains(out, iamRegion) {
		out = append(out, iamRegion)
	}
	return out
}

// SeveritiesFrom are the severities at or above min, highest first.
func SeveritiesFrom(min string) []string {
	i := slices.Index(severities, min)
	if i < 0 {
		return nil
	}
	return slices.Clone(severities[:i+1])
}
