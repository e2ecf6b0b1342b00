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
	// HomeRegion alone.
	Regions []string
	// LogRetentionDays keeps the functions' logs (default 365).
	LogRetentionDays int
	// SweepSchedule is the EventBridge schedule of the role index sweep
	// (default "rate(1 day)").
	SweepSchedule string
	// AssetDir is where make build put onregister/bootstrap and
	// onrolechange/bootstrap (default ../bin, from infra/).
	AssetDir string
}

// The context keys, all under the "ecsguard:" prefix.
const (
	ctxMode                = "ecsguard:mode"
	ctxEnforceMinSeverity  = "ecsguard:enforceMinSeverity"
	ctxDryRun              = "ecsguard:dryRun"
	ctxEnforceOnRoleChange = "ecsguard:enforceOnRoleChange"
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
	return s, errors.Join(errs...)
}

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
