package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// executionPlane are the actions an execution role may need (SPEC §3),
// and the read-only metadata calls that AWS's own tooling grants with
// them: the CDK gives a task's execution role the grantRead of each secret
// and parameter it injects (Secret.grantRead: GetSecretValue and
// DescribeSecret; StringParameter.grantRead: DescribeParameters,
// GetParameters, GetParameter, GetParameterHistory;
// https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_ecs.Secret.html).
// They read what the task is given anyway, so they are not beyond the
// plane; TD-004 still judges how many secrets and parameters they reach.
var executionPlane = []string{
	"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
	"logs:CreateLogStream", "logs:PutLogEvents", "logs:CreateLogGroup",
	"secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt",
	"s3:GetObject", "s3:GetBucketLocation",
	"secretsmanager:DescribeSecret", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:DescribeParameters",
}

// Probe resources: ARNs no task definition references. A grant that reaches
// one reaches every resource of its type ("*", "secret:*", "role/*"), while
// a grant scoped to named resources or a name prefix does not. The leading
// '~' is valid in no IAM, secret or parameter name, so no real prefix
// pattern can match it by accident.
func probeSecret(p, region, account string) string {
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:~ecsguard-probe-AbCdEf", p, region, account)
}

func probeParameter(p, region, account string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/~ecsguard-probe", p, region, account)
}

func probeRole(p, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/~ecsguard-probe", p, account)
}

// inSet returns a Grants filter keeping the actions of the set, or, with
// outside, those not in it.
func inSet(s iampolicy.ActionSet, outside bool) func(iampolicy.Action) bool {
	return func(a iampolicy.Action) bool { return s.Contains(a) != outside }
}

// The action sets the rules test grants against, compiled once.
var (
	executionPlaneSet = iampolicy.NewActionSet(executionPlane...)
	eventsSet         = iampolicy.NewActionSet(eventsActions...)
	autoscaleSet      = iampolicy.NewActionSet(autoscaleActions...)
	instanceSet       = iampolicy.NewActionSet(instanceActions...)
	escalationSet     = iampolicy.NewActionSet(escalationRelated()...)
)

func escalationRelated() []string {
	out := append(slices.Clone(escalation), "iam:PassRole")
	for _, p := range passRoleTo {
		out = append(out, p.actions...)
	}
	return out
}

// fromIAM turns an iampolicy evidence into a finding's, with what IAM
// itself would reject in the statement (an invalid ARN) noted.
func fromIAM(e iampolicy.Evidence, action, detail string) Evidence {
	if e.Note != "" {
		detail = strings.TrimPrefix(detail+"; "+e.Note, "; ")
	}
	return Evidence{Detail: detail, Policy: e.Policy, Action: action, Statement: e.Statement, Conditional: e.Conditional}
}

// grantSummary turns many grants into a readable sentence and one evidence
// entry per deciding statement, with a few of the actions it grants. A
// wildcard grant is not an action: it says the wildcard also reaches
// actions newer than the catalog, or services it lacks.
func grantSummary(gs []iampolicy.Grant, what string) []Evidence {
	levels := map[iampolicy.AccessLevel]int{}
	var wild []string
	for _, g := range gs {
		if g.Action.Wildcard() {
			wild = append(wild, g.Action.String())
			continue
		}
		levels[g.Action.Level]++
	}
	var parts []string
	for _, l := range []iampolicy.AccessLevel{iampolicy.LevelPermissionsManagement, iampolicy.LevelWrite, iampolicy.LevelTagging, iampolicy.LevelRead, iampolicy.LevelList, iampolicy.LevelUnknown} {
		if n := levels[l]; n > 0 {
			name := l.String()
			if l == iampolicy.LevelUnknown {
				name = "not in the IAM action catalog of " + iampolicy.CatalogDate
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	n := len(gs) - len(wild)
	detail := fmt.Sprintf("allows %d %s", n, plural(n, what))
	if len(parts) > 0 {
		detail += " (" + strings.Join(parts, ", ") + ")"
	}
	if len(wild) > 0 {
		shown := wild[:min(len(wild), 5)]
		more := ""
		if len(wild) > len(shown) {
			more = ", ..."
		}
		detail += fmt.Sprintf(", and whatever %s%s also match beyond the IAM action catalog of %s (newer actions, services it does not know)", strings.Join(shown, ", "), more, iampolicy.CatalogDate)
	}
	out := []Evidence{{Detail: detail}}
	seen := map[*iampolicy.Evidence]int{} // grants of one statement share its evidence
	for _, g := range gs {
		k := g.Evidence
		i, ok := seen[k]
		if !ok {
			seen[k] = len(out)
			out = append(out, fromIAM(*g.Evidence, g.Action.String(), "grants "+g.Action.String()+" on "+g.Resource))
			continue
		}
		if n := strings.Count(out[i].Detail, ","); n < 4 {
			out[i].Detail = strings.Replace(out[i].Detail, " on ", ", "+g.Action.String()+" on ", 1)
		} else if !strings.HasSuffix(out[i].Detail, "...") {
			out[i].Detail += " ..."
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return strings.TrimSuffix(what, "s")
	}
	return what
}

// writes reports whether any grant changes something: Write, Permissions
// management, Tagging (every one of which IAM also files as a write), or an
// action the catalog does not know.
func writes(gs []iampolicy.Grant) bool {
	return slices.ContainsFunc(gs, func(g iampolicy.Grant) bool {
		switch g.Action.Level {
		case iampolicy.LevelWrite, iampolicy.LevelPermissionsManagement, iampolicy.LevelTagging:
			return true
		}
		return false
	})
}

// arnParts returns partition, region and account of an ARN.
func arnParts(arn string) (partition, region, account string) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) < 6 || p[0] != "arn" {
		return "", "", ""
	}
	return p[1], p[3], p[4]
}
