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
func checkSecondaryRole(r *Role, cache *Cache) []Finding {
	classes := SecondaryClasses(r)
	if len(classes) == 0 {
		return nil
	}
	perms := cache.permissions(r)
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

// SR-001: iam:PassRole on every role to any service is HIGH. Limited to
// ecs-tasks.amazonaws.com by iam:PassedToService, as AWS's own
// AmazonEC2ContainerServiceEventsRole grants it, it is LOW, as is
// ecs:RunTask on every task definition. The conditions are evaluated with
// their operators, for a request that passes the role to ECS and for one
// that passes it to another service.
func eventsRolePassAndRun(r *Role, perms *iampolicy.Set) []Finding {
	partition, _, account := arnParts(r.ARN)
	role := probeRole(cmpOr(partition, "aws"), account)
	pass := func(svc string) iampolicy.Result {
		return perms.EvaluateRequest(iampolicy.Request{Action: "iam:PassRole", Resource: role, Context: map[string][]string{"iam:PassedToService": {svc}}})
	}
	var out []Finding
	var low, high []Evidence
	for _, svc := range passedToServices(r) {
		if res := pass(svc); res.Decision != iampolicy.NotAllowed {
			what := "iam:PassRole on every role, to any service"
			if svc != probeService {
				what = "iam:PassRole on every role, to " + svc
			}
			for _, e := range allows(res) {
				high = append(high, fromIAM(e, "iam:PassRole", what))
			}
			break
		}
	}
	if len(high) > 0 {
		out = append(out, newFinding("SR-001", High, r.ARN, high...))
	} else if ecs := pass(principalECSTasks); ecs.Decision != iampolicy.NotAllowed {
		for _, e := range allows(ecs) {
			low = append(low, fromIAM(e, "iam:PassRole", "iam:PassRole on every role, limited to ecs-tasks.amazonaws.com by iam:PassedToService"))
		}
	}
	if run := perms.Evaluate("ecs:RunTask", "*"); run.Decision != iampolicy.NotAllowed {
		for _, e := range allows(run) {
			low = append(low, fromIAM(e, "ecs:RunTask", "ecs:RunTask on every task definition"))
		}
	}
	if len(low) > 0 {
		out = append(out, newFinding("SR-001", Low, r.ARN, low...))
	}
	return out
}

// passedToServices are the services other than ECS tasks a role might
// pass roles to: any service (the probe), then each one its policies name
// in an iam:PassedToService condition.
func passedToServices(r *Role) []string {
	out := []string{probeService}
	for _, p := range r.Policies {
		if p.Document == nil {
			continue
		}
		for _, st := range p.Document.Statements {
			_, values := st.Condition.Values("iam:PassedToService")
			for _, v := range values {
				if v != principalECSTasks && !strings.ContainsAny(v, "*?$") && !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// probeService is a service principal no iam:PassedToService condition
// names: a grant that reaches it reaches any service.
const probeService = "~ecsguard-probe.amazonaws.com"

// allows keeps the Allow statements of a result's evidence.
func allows(r iampolicy.Result) []iampolicy.Evidence {
	var out []iampolicy.Evidence
	for _, e := range r.Evidence {
		if e.Effect == iampolicy.Allow {
			out = append(out, e)
		}
	}
	return out
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
	services, all := perms.WholeServices()
	if all || len(services) > 0 || slices.ContainsFunc(extra, func(g iampolicy.Grant) bool { return g.Action.Level == iampolicy.LevelPermissionsManagement }) {
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
