package awsfacts

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// UseFinder finds what references a role besides task definitions (SPEC
// §3): EventBridge rules and Scheduler schedules that run ECS tasks with it,
// Application Auto Scaling targets of ECS services, instance profiles. Build
// it once per process; [UseFinder.Begin] starts one invocation's lookups.
type UseFinder struct {
	ECS         *ecs.Client
	IAM         *iam.Client
	Events      *eventbridge.Client
	Scheduler   *scheduler.Client
	Autoscaling *applicationautoscaling.Client
	// PageSize, when not 0, is the page size of the list calls that take
	// one; tests set it to exercise pagination.
	PageSize int32
}

// NewUseFinder returns a UseFinder with clients built from cfg.
func NewUseFinder(cfg aws.Config) *UseFinder {
	return &UseFinder{
		ECS:         ecs.NewFromConfig(cfg),
		IAM:         iam.NewFromConfig(cfg),
		Events:      eventbridge.NewFromConfig(cfg),
		Scheduler:   scheduler.NewFromConfig(cfg),
		Autoscaling: applicationautoscaling.NewFromConfig(cfg),
	}
}

// Begin starts the lookups of one invocation. The account-wide lists it
// reads (EventBridge targets, schedules, scalable targets) are read once,
// the first time a role needs them, and kept until the UseLookup is
// dropped: make one per invocation so that every invocation sees the
// account as it is. A UseLookup is not safe for concurrent use.
func (f *UseFinder) Begin() *UseLookup {
	return &UseLookup{f: f, lists: map[rules.UseKind]*useList{}}
}

// UseLookup is one invocation's view of what references roles.
type UseLookup struct {
	f     *UseFinder
	lists map[rules.UseKind]*useList
}

// useList is an account-wide list of references, by lower-cased role name,
// or the permanent error that kept it from being read.
type useList struct {
	byRole map[string][]rules.Use
	err    error
}

// useSource is where one kind of reference is found, and the service
// principal a role must trust to be referenced that way: a role the service
// cannot assume cannot serve it, so it is not looked up, and a task role
// costs no call.
type useSource struct {
	kind    rules.UseKind
	service string
	what    string
	load    func(*UseLookup, context.Context) (map[string][]rules.Use, error)
}

var useSources = []useSource{
	{rules.UseEventsTarget, "events.amazonaws.com", "EventBridge targets", (*UseLookup).eventTargets},
	{rules.UseSchedule, "scheduler.amazonaws.com", "EventBridge Scheduler schedules", (*UseLookup).schedules},
	{rules.UseScalableTarget, "application-autoscaling.amazonaws.com", "Application Auto Scaling targets", (*UseLookup).scalableTargets},
}

// Fill sets role.Uses from what references the
// role, looking only where the role's trust policy lets the service assume
// it. A reference that cannot be read for a permanent reason (AccessDenied)
// is returned as a missing fact, and added to role.Missing, so the verdict
// on the role is marked incomplete; err is non-nil only for a transient
// failure.
func (u *UseLookup) Fill(ctx context.Context, role *rules.Role) (missing []rules.FactError, err error) {
	if role == nil || role.ServiceLinked() {
		return nil, nil
	}
	var uses []rules.Use
	key := strings.ToLower(role.Name)
	for _, src := range useSources {
		if !role.Trusts(src.service) {
			continue
		}
		l, err := u.list(ctx, src)
		if err != nil {
			return nil, err
		}
		if l.err != nil {
			missing = append(missing, rules.FactError{Subject: role.ARN, Err: fmt.Errorf("%s: %w", src.what, l.err)})
			continue
		}
		uses = append(uses, l.byRole[key]...)
	}
	if role.Trusts("ec2.amazonaws.com") {
		profiles, err := u.instanceProfiles(ctx, role.Name)
		switch {
		case err == nil:
			for _, p := range profiles {
				uses = append(uses, rules.Use{Kind: rules.UseInstanceProfile, Resource: p})
			}
		case Permanent(err):
			missing = append(missing, rules.FactError{Subject: role.ARN, Err: fmt.Errorf("instance profiles: %w", err)})
		default:
			return nil, fmt.Errorf("instance profiles of role %s: %w", role.Name, err)
		}
	}
	role.Uses = uses
	// Unread references are gaps in the role's own facts: its classes,
	// and so the SR rules that judge it, depend on them.
	role.Missing = append(role.Missing, missing...)
	return missing, nil
}

// list reads one kind of reference the first time it is asked for. A
// permanent failure is kept with the list, so that every role asking for it
// reports it without a new call; a transient one is not kept.
func (u *UseLookup) list(ctx context.Context, src useSource) (*useList, error) {
	if l, ok := u.lists[src.kind]; ok {
		return l, nil
	}
	byRole, err := src.load(u, ctx)
	if err != nil && !Permanent(err) {
		return nil, fmt.Errorf("%s: %w", src.what, err)
	}
	l := &useList{byRole: byRole, err: err}
	u.lists[src.kind] = l
	return l, nil
}

// eventTargets finds the EventBridge rule targets that run ECS tasks with a
// role. EventBridge cannot list targets by role; it can list the rules
// that target a cluster, so the cost follows the clusters and the rules
// that run tasks on them, not every rule of the account.
func (u *UseLookup) eventTargets(ctx context.Context) (map[string][]rules.Use, error) {
	clusters, err := u.clusters(ctx)
	if err != nil || len(clusters) == 0 {
		return nil, err
	}
	buses, err := u.eventBuses(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]rules.Use{}
	for _, bus := range buses {
		seen := map[string]bool{}
		for _, cluster := range clusters {
			names, err := u.ruleNamesByTarget(ctx, bus, cluster)
			if err != nil {
				return nil, err
			}
			for _, name := range names {
				if seen[name] {
					continue
				}
				seen[name] = true
				if err := u.ruleTargets(ctx, bus, name, cluster, out); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func (u *UseLookup) clusters(ctx context.Context) ([]string, error) {
	var out []string
	in := &ecs.ListClustersInput{}
	if u.f.PageSize > 0 {
		in.MaxResults = aws.Int32(u.f.PageSize)
	}
	pages := ecs.NewListClustersPaginator(u.f.ECS, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.ClusterArns...)
	}
	return out, nil
}

func (u *UseLookup) eventBuses(ctx context.Context) ([]string, error) {
	var out []string
	in := &eventbridge.ListEventBusesInput{}
	if u.f.PageSize > 0 {
		in.Limit = aws.Int32(u.f.PageSize)
	}
	err := eachPage(func(token *string) (*string, error) {
		in.NextToken = token
		page, err := u.f.Events.ListEventBuses(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, b := range page.EventBuses {
			out = append(out, aws.ToString(b.Name))
		}
		return page.NextToken, nil
	})
	return out, err
}

func (u *UseLookup) ruleNamesByTarget(ctx context.Context, bus, target string) ([]string, error) {
	var out []string
	in := &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(target), EventBusName: aws.String(bus)}
	if u.f.PageSize > 0 {
		in.Limit = aws.Int32(u.f.PageSize)
	}
	err := eachPage(func(token *string) (*string, error) {
		in.NextToken = token
		page, err := u.f.Events.ListRuleNamesByTarget(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.RuleNames...)
		return page.NextToken, nil
	})
	return out, err
}

// ruleTargets adds to out the role of each target of the rule that runs an
// ECS task. The rule's ARN is built from the cluster's partition, region
// and account, where EventBridge requires ECS targets to be.
func (u *UseLookup) ruleTargets(ctx context.Context, bus, rule, cluster string, out map[string][]rules.Use) error {
	in := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule), EventBusName: aws.String(bus)}
	if u.f.PageSize > 0 {
		in.Limit = aws.Int32(u.f.PageSize)
	}
	p := strings.SplitN(cluster, ":", 6)
	ruleARN := "arn:" + p[1] + ":events:" + p[3] + ":" + p[4] + ":rule/" + rule
	if bus != "default" {
		ruleARN = "arn:" + p[1] + ":events:" + p[3] + ":" + p[4] + ":rule/" + bus + "/" + rule
	}
	return eachPage(func(token *string) (*string, error) {
		in.NextToken = token
		page, err := u.f.Events.ListTargetsByRule(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Targets {
			if t.EcsParameters != nil && aws.ToString(t.RoleArn) != "" {
				addUse(out, aws.ToString(t.RoleArn), rules.Use{Kind: rules.UseEventsTarget, Resource: ruleARN})
			}
		}
		return page.NextToken, nil
	})
}

// schedules finds the EventBridge Scheduler schedules that run ECS tasks
// with a role. The list gives each schedule's target ARN but not its role:
// only the schedules that target an ECS cluster are read in full.
func (u *UseLookup) schedules(ctx context.Context) (map[string][]rules.Use, error) {
	out := map[string][]rules.Use{}
	in := &scheduler.ListSchedulesInput{}
	if u.f.PageSize > 0 {
		in.MaxResults = aws.Int32(u.f.PageSize)
	}
	pages := scheduler.NewListSchedulesPaginator(u.f.Scheduler, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Schedules {
			if s.Target == nil || !isCluster(aws.ToString(s.Target.Arn)) {
				continue
			}
			got, err := u.f.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: s.Name, GroupName: s.GroupName})
			if err != nil {
				return nil, err
			}
			if t := got.Target; t != nil && t.EcsParameters != nil && aws.ToString(t.RoleArn) != "" {
				addUse(out, aws.ToString(t.RoleArn), rules.Use{Kind: rules.UseSchedule, Resource: aws.ToString(got.Arn)})
			}
		}
	}
	return out, nil
}

// scalableTargets finds the Application Auto Scaling targets of ECS
// services and the role each names (the service-linked role, unless a
// custom role was given when it was registered).
func (u *UseLookup) scalableTargets(ctx context.Context) (map[string][]rules.Use, error) {
	out := map[string][]rules.Use{}
	in := &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceEcs}
	if u.f.PageSize > 0 {
		in.MaxResults = aws.Int32(u.f.PageSize)
	}
	pages := applicationautoscaling.NewDescribeScalableTargetsPaginator(u.f.Autoscaling, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range page.ScalableTargets {
			if aws.ToString(t.RoleARN) != "" {
				addUse(out, aws.ToString(t.RoleARN), rules.Use{Kind: rules.UseScalableTarget, Resource: aws.ToString(t.ResourceId)})
			}
		}
	}
	return out, nil
}

func (u *UseLookup) instanceProfiles(ctx context.Context, role string) ([]string, error) {
	var out []string
	in := &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String(role)}
	if u.f.PageSize > 0 {
		in.MaxItems = aws.Int32(u.f.PageSize)
	}
	pages := iam.NewListInstanceProfilesForRolePaginator(u.f.IAM, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range page.InstanceProfiles {
			out = append(out, aws.ToString(p.Arn))
		}
	}
	return out, nil
}

// eachPage calls page with each next token until there is none, for the
// EventBridge lists that have no SDK paginator. A token handed back
// unchanged would loop until the function times out: it is an error.
func eachPage(page func(token *string) (next *string, err error)) error {
	var token *string
	for {
		next, err := page(token)
		if err != nil {
			return err
		}
		if aws.ToString(next) == "" {
			return nil
		}
		if token != nil && *next == *token {
			return fmt.Errorf("pagination did not advance: next token %q repeated", *next)
		}
		token = next
	}
}

func addUse(m map[string][]rules.Use, roleARN string, u rules.Use) {
	k := strings.ToLower(roleName(roleARN))
	for _, have := range m[k] {
		if have == u {
			return
		}
	}
	m[k] = append(m[k], u)
}

// isCluster reports whether arn is an ECS cluster's.
func isCluster(arn string) bool {
	p := strings.SplitN(arn, ":", 6)
	return len(p) == 6 && p[2] == "ecs" && strings.HasPrefix(p[5], "cluster/")
}
