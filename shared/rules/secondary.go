package rules

import (
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// servicePrincipals are the principals each secondary class exists for.
var servicePrincipals = map[Class][]string{
	ClassEvents:     {principalEvents, principalScheduler},
	ClassAutoscale:  {principalAutoscale},
	ClassInstance:   {principalEC2},
	ClassService:    {principalECS},
	ClassCodeDeploy: {principalCodeDeploy},
}

// Actions each secondary class may hold (SPEC §3, notes/aws-facts.md §4.3).
var (
	eventsActions    = []string{"ecs:RunTask", "iam:PassRole", "ecs:TagResource"}
	autoscaleActions = []string{"ecs:DescribeServices", "ecs:UpdateService", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:GetMetricData"}
	// AmazonEC2ContainerServiceforEC2Role v10.
	instanceActions = []string{
		"ec2:DescribeTags", "ecs:CreateCluster", "ecs:DeregisterContainerInstance", "ecs:DiscoverPollEndpoint",
		"ecs:Poll", "ecs:RegisterContainerInstance", "ecs:StartTelemetrySession", "ecs:UpdateContainerInstancesState",
		"ecs:Submit*", "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
		"ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents", "ecs:TagResource", "ecs:ListTagsForResource",
	}
)

// checkSecondaryRole runs the SR rules for every class the role has.
func checkSecondaryRole(r *Role) []Finding {
	classes := SecondaryClasses(r)
	if len(classes) == 0 {
		return nil
	}
	perms := r.Permissions()
	var out []Finding
	out = append(out, secondaryTrust(r, classes)...)
	for _, c := range classes {
		switch c {
		case ClassEvents:
			out = append(out, eventsRolePassAndRun(r, perms)...)
			out = append(out, beyond("SR-002", Medium, r, perms, eventsSet, "actions beyond ecs:RunTask, iam:PassRole and ecs:TagResource")...)
		case ClassAutoscale:
			extra := beyond("SR-003", Medium, r, perms, autoscaleSet, "actions beyond ECS service autoscaling")
			if len(extra) == 0 {
				extra = []Finding{newFinding("SR-003", Informational, r.ARN, Evidence{
					Detail: "custom autoscaling role; the service-linked role AWSServiceRoleForApplicationAutoScaling_ECSService does this job",
				})}
			}
			out = append(out, extra...)
		case ClassInstance:
			out = append(out, instanceRoleBeyond(r, perms)...)
		case ClassService:
			out = append(out, newFinding("SR-005", Low, r.ARN, Evidence{
				Detail: "legacy ECS service role; ECS uses the service-linked role AWSServiceRoleForECS",
			}))
		case ClassCodeDeploy:
			if slices.Contains(r.Attached, policyCodeDeploy) {
				out = append(out, newFinding("SR-005", Low, r.ARN, Evidence{
					Detail: "AWSCodeDeployRoleForECS attached where AWSCodeDeployRoleForECSLimited fits", Policy: policyCodeDeploy,
				}))
			}
		}
	}
	return dedupeFindings(out)
}

// SR-006
func secondaryTrust(r *Role, classes []Class) []Finding {
	if r.Trust == nil {
		return nil
	}
	var allowed []string
	for _, c := range classes {
		allowed = append(allowed, servicePrincipals[c]...)
	}
	var ev []Evidence
	for _, st := range r.Trust.Statements {
		if st.Effect != iampolicy.Allow || !assumes(st) {
			continue
		}
		switch {
		case st.NotPrincipal != nil:
			ev = append(ev, Evidence{Detail: "NotPrincipal admits every principal it does not name", Statement: st.Raw})
		case st.Principal.Everyone():
			ev = append(ev, Evidence{Detail: `trust admits "*"` + conditionNote(st), Statement: st.Raw})
		default:
			for _, who := range otherPrincipals(st.Principal, allowed...) {
				ev = append(ev, Evidence{Detail: "trust admits " + who + conditionNote(st), Statement: st.Raw})
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{newFinding("SR-006", High, r.ARN, ev...)}
}

// SR-001: PassRole on every role without iam:PassedToService = ecs-tasks is
// HIGH, with it MEDIUM; RunTask on "*" is LOW.
func eventsRolePassAndRun(r *Role, perms *iampolicy.Set) []Finding {
	var out []Finding
	var high, medium []Evidence
	for _, p := range r.Policies {
		if p.Document == nil {
			continue
		}
		for _, st := range p.Document.Statements {
			if st.Effect != iampolicy.Allow || !statementAllows(st, "iam:PassRole", "*") {
				continue
			}
			e := Evidence{Policy: p.Name, Action: "iam:PassRole", Statement: st.Raw}
			if passesOnlyToECSTasks(st) {
				e.Detail = "iam:PassRole on every role, limited to ecs-tasks.amazonaws.com by iam:PassedToService"
				medium = append(medium, e)
			} else {
				e.Detail = "iam:PassRole on every role, to any service"
				e.Conditional = len(st.Condition) > 0
				high = append(high, e)
			}
		}
	}
	if perms.Decide("iam:PassRole", "*") == iampolicy.NotAllowed {
		high, medium = nil, nil // denied or bounded away
	}
	switch {
	case len(high) > 0:
		out = append(out, newFinding("SR-001", High, r.ARN, high...))
	case len(medium) > 0:
		out = append(out, newFinding("SR-001", Medium, r.ARN, medium...))
	}
	if run := perms.Evaluate("ecs:RunTask", "*"); run.Decision != iampolicy.NotAllowed {
		var ev []Evidence
		for _, e := range run.Evidence {
			ev = append(ev, fromIAM(e, "ecs:RunTask", "ecs:RunTask on every task definition"))
		}
		out = append(out, newFinding("SR-001", Low, r.ARN, ev...))
	}
	return out
}

// statementAllows tests one statement, ignoring its Condition.
func statementAllows(st iampolicy.Statement, action, resource string) bool {
	st.Condition = nil
	s := iampolicy.NewSet([]iampolicy.Policy{{Document: &iampolicy.Document{Statements: []iampolicy.Statement{st}}}}, nil)
	return s.Decide(action, resource) == iampolicy.Allowed
}

// passesOnlyToECSTasks: the statement's only condition key is
// iam:PassedToService and every value it allows names ecs-tasks.
func passesOnlyToECSTasks(st iampolicy.Statement) bool {
	keys := st.Condition.Keys()
	if len(keys) == 0 {
		return false
	}
	for _, k := range keys {
		if k != "iam:passedtoservice" {
			return false
		}
	}
	ops, vals := st.Condition.Values("iam:PassedToService")
	for _, op := range ops {
		if strings.HasPrefix(op, "ForAnyValue:") || strings.Contains(op, "Not") {
			return false
		}
	}
	for _, v := range vals {
		if v != principalECSTasks {
			return false
		}
	}
	return len(vals) > 0
}

// beyond reports the grants outside the allowed actions as one finding.
func beyond(rule string, s Severity, r *Role, perms *iampolicy.Set, allowed iampolicy.ActionSet, what string) []Finding {
	extra := perms.Grants(inSet(allowed, true))
	if len(extra) == 0 {
		return nil
	}
	return []Finding{newFinding(rule, s, r.ARN, grantSummary(extra, what)...)}
}

// SR-004: HIGH when the extra grants include a whole service on "*" or
// permission management (containers on the host can use them), else MEDIUM.
func instanceRoleBeyond(r *Role, perms *iampolicy.Set) []Finding {
	extra := perms.Grants(inSet(instanceSet, true))
	if len(extra) == 0 {
		return nil
	}
	s := Medium
	services, _ := wholeServices(extra)
	if len(services) > 0 || slices.ContainsFunc(extra, func(g iampolicy.Grant) bool { return g.Action.Level == iampolicy.LevelPermissionsManagement }) {
		s = High
	}
	return []Finding{newFinding("SR-004", s, r.ARN, grantSummary(extra, "actions beyond AmazonEC2ContainerServiceforEC2Role")...)}
}

// dedupeFindings keeps the first finding per (rule, severity, resource).
func dedupeFindings(fs []Finding) []Finding {
	type key struct {
		rule     string
		severity Severity
		resource string
	}
	seen := map[key]bool{}
	return slices.DeleteFunc(fs, func(f Finding) bool {
		k := key{f.Rule, f.Severity, f.Resource}
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}
