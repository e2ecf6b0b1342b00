package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// tdCheck holds what the task definition rules share: the roles, their
// compiled permissions and where the task definition lives.
type tdCheck struct {
	f                          Facts
	td                         *TaskDefinition
	task, exec                 *Role
	taskPerms, execPerms       *iampolicy.Set
	partition, region, account string
}

func checkTaskDefinition(f Facts) []Finding {
	td := f.TaskDefinition
	// A task definition that could not be read is only its ARN: every
	// rule would judge an empty definition (no task role: TD-007), so none
	// runs. The report is incomplete with the error.
	if hasMissing(f.Missing, td.ARN) {
		return nil
	}
	c := &tdCheck{f: f, td: td, task: f.Roles[td.TaskRoleARN], exec: f.Roles[td.ExecutionRoleARN]}
	c.partition, c.region, c.account = arnParts(td.ARN)
	c.partition = cmpOr(c.partition, "aws")
	c.region = cmpOr(c.region, f.Region)
	c.account = cmpOr(c.account, f.Account)
	if c.task != nil {
		c.taskPerms = f.Cache.permissions(c.task)
	}
	if c.exec != nil {
		c.execPerms = f.Cache.permissions(c.exec)
		if c.task != nil && c.exec.ARN == c.task.ARN {
			c.execPerms = c.taskPerms
		}
	}
	var out []Finding
	for _, check := range []func() []Finding{
		c.taskRoleIsExecutionRole,
		c.taskRoleHasExecutionPlane,
		c.executionRoleBeyondPlane,
		c.executionRoleReadsEverySecret,
		c.executionRoleUnneeded,
		c.executionRoleInsufficient,
		c.noTaskRoleOnInstances,
		c.taskRoleTooBroad,
		c.taskRoleEscalates,
		c.trustPolicies,
		c.taskRoleShared,
		c.secretsInEnvironment,
	} {
		out = append(out, check()...)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TD-001
func (c *tdCheck) taskRoleIsExecutionRole() []Finding {
	if c.td.TaskRoleARN == "" || !strings.EqualFold(c.td.TaskRoleARN, c.td.ExecutionRoleARN) {
		return nil
	}
	return []Finding{newFinding("TD-001", High, c.td.TaskRoleARN, Evidence{
		Detail: "taskRoleArn and executionRoleArn are both " + c.td.TaskRoleARN,
	})}
}

// TD-002: only what serves the agent, never an app: the managed execution
// policy, or image pull on "*". Secrets, parameters, S3 and KMS reads are
// normal application permissions.
func (c *tdCheck) taskRoleHasExecutionPlane() []Finding {
	if c.task == nil {
		return nil
	}
	if slices.Contains(c.task.Attached, policyTaskExecution) {
		return []Finding{newFinding("TD-002", Medium, c.task.ARN, Evidence{
			Detail: "AmazonECSTaskExecutionRolePolicy is attached to the task role", Policy: policyTaskExecution,
		})}
	}
	token := c.taskPerms.Evaluate("ecr:GetAuthorizationToken", "*")
	pull := c.taskPerms.Evaluate("ecr:BatchGetImage", "*")
	if token.Decision == iampolicy.NotAllowed || pull.Decision == iampolicy.NotAllowed {
		return nil
	}
	var ev []Evidence
	for _, e := range token.Evidence {
		ev = append(ev, fromIAM(e, "ecr:GetAuthorizationToken", "task role can get ECR authorization tokens"))
	}
	for _, e := range pull.Evidence {
		ev = append(ev, fromIAM(e, "ecr:BatchGetImage", "task role can pull any ECR image"))
	}
	return []Finding{newFinding("TD-002", Medium, c.task.ARN, ev...)}
}

// TD-003
func (c *tdCheck) executionRoleBeyondPlane() []Finding {
	if c.exec == nil {
		return nil
	}
	extra := c.execPerms.Grants(inSet(executionPlaneSet, true))
	if len(extra) == 0 {
		return nil
	}
	s := Medium
	if writes(extra) {
		s = High
	}
	return []Finding{newFinding("TD-003", s, c.exec.ARN, grantSummary(extra, "actions outside the execution plane")...)}
}

// TD-004
func (c *tdCheck) executionRoleReadsEverySecret() []Finding {
	if c.exec == nil {
		return nil
	}
	var ev []Evidence
	for _, q := range []struct{ action, resource, what string }{
		{"secretsmanager:GetSecretValue", probeSecret(c.partition, c.region, c.account), "every Secrets Manager secret"},
		{"ssm:GetParameters", probeParameter(c.partition, c.region, c.account), "every SSM parameter"},
		{"ssm:GetParameter", probeParameter(c.partition, c.region, c.account), "every SSM parameter"},
	} {
		r := c.execPerms.Evaluate(q.action, q.resource)
		for _, e := range r.Evidence {
			if r.Decision != iampolicy.NotAllowed {
				ev = append(ev, fromIAM(e, q.action, "execution role can read "+q.what+" ("+q.action+")"))
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{newFinding("TD-004", Medium, c.exec.ARN, ev...)}
}

// TD-005
func (c *tdCheck) executionRoleUnneeded() []Finding {
	if c.td.ExecutionRoleARN == "" || NeedsExecutionRole(c.td) || len(c.td.Unresolved) > 0 {
		return nil
	}
	return []Finding{newFinding("TD-005", Low, c.td.ExecutionRoleARN, Evidence{
		Detail: "launch types " + strings.Join(LaunchTypes(c.td), ", ") + "; no private ECR image on Fargate or external instances, no awslogs there, no secrets, registry credentials, environment files or FireLens S3 config",
	})}
}

// TD-006: judged on what is given, even registrations ECS would refuse.
func (c *tdCheck) executionRoleInsufficient() []Finding {
	needs := ExecutionNeeds(c.td, c.region, c.account)
	if len(needs) == 0 {
		return nil
	}
	if c.td.ExecutionRoleARN == "" {
		var ev []Evidence
		for _, n := range needs {
			ev = append(ev, Evidence{Detail: needDetail(n), Action: n.Action})
		}
		return []Finding{newFinding("TD-006", High, c.td.ARN, append([]Evidence{{Detail: "no executionRoleArn, but the task needs one"}}, ev...)...)}
	}
	if c.exec == nil {
		return nil // the role could not be read: the report is incomplete
	}
	// A policy that could not be read may grant what seems lacking: no
	// lack is claimed on partial facts. The role's errors make the report
	// incomplete, which blocks enforcement.
	if c.exec.Incomplete() {
		return nil
	}
	// A Deny that holds for the task's session is a lack; one whose
	// condition cannot be decided is a possible lack, marked conditional.
	// A conditional Allow is not a lack: ECS may well meet its condition.
	var ev []Evidence
	for _, n := range needs {
		r := c.execPerms.Evaluate(n.Action, n.Resource)
		switch {
		case r.Decision == iampolicy.NotAllowed:
			ev = append(ev, Evidence{Detail: "not allowed: " + needDetail(n), Action: n.Action})
		case r.MayBeDenied():
			for _, e := range r.Evidence {
				if e.Effect == iampolicy.Deny {
					ev = append(ev, fromIAM(e, n.Action, "conditional: a Deny may refuse "+needDetail(n)))
				}
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{newFinding("TD-006", High, c.exec.ARN, ev...)}
}

func needDetail(n Need) string {
	s := n.Action + " on " + n.Resource + " (" + n.Reason + ")"
	if n.Container != "" {
		s += " (container " + n.Container + ")"
	}
	return s
}

// TD-007
func (c *tdCheck) noTaskRoleOnInstances() []Finding {
	if c.td.TaskRoleARN != "" {
		return nil
	}
	lt := LaunchTypes(c.td)
	if !slices.Contains(lt, "EC2") && !slices.Contains(lt, "EXTERNAL") {
		return nil
	}
	return []Finding{newFinding("TD-007", Medium, c.td.ARN, Evidence{
		Detail: "no taskRoleArn and the task can run on " + strings.Join(lt, ", "),
	})}
}

// TD-008: every action of a service, or of every service, on every
// resource. Naming each action the catalog lists is not a whole service
// (ECS Exec's four ssmmessages actions are all the catalog has): a wildcard
// or NotAction must cover the service, so that actions added later are
// granted too (iampolicy.WholeServices).
func (c *tdCheck) taskRoleTooBroad() []Finding {
	if c.task == nil {
		return nil
	}
	services, all := c.taskPerms.WholeServices()
	if len(services) == 0 && !all {
		return nil
	}
	gs := c.taskPerms.Grants(nil)
	whole := make(map[string]bool, len(services))
	for _, s := range services {
		whole[s] = true
	}
	deciding := make([]iampolicy.Grant, 0, len(gs))
	for _, g := range gs {
		if g.OnAll && (whole[g.Action.Service] || (all && g.Action.Wildcard())) {
			deciding = append(deciding, g)
		}
	}
	ev := grantSummary(deciding, "actions")
	if all {
		ev[0].Detail = "task role allows every action on every resource"
		return []Finding{newFinding("TD-008", Critical, c.task.ARN, ev...)}
	}
	ev[0].Detail = "task role allows every action of " + serviceList(services) + " on every resource"
	return []Finding{newFinding("TD-008", High, c.task.ARN, ev...)}
}

// escalation lists single actions that let a principal raise its own
// permissions, on any resource, and the probes for those that matter only
// on any resource.
var escalation = []string{
	"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutUserPolicy", "iam:AttachUserPolicy",
	"iam:PutGroupPolicy", "iam:AttachGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
	"iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
	"iam:AddUserToGroup", "iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary",
}

// passRoleTo: iam:PassRole to the service plus these actions start compute
// with a role of the caller's choosing. The pass is judged for that
// service: iam:PassedToService = lambda.amazonaws.com does not let a role
// go to ECS.
var passRoleTo = []struct {
	actions []string
	service string
}{
	{[]string{"ecs:RunTask"}, principalECSTasks},
	{[]string{"ecs:StartTask"}, principalECSTasks},
	{[]string{"ecs:RegisterTaskDefinition", "ecs:CreateService"}, principalECSTasks},
	{[]string{"ecs:RegisterTaskDefinition", "ecs:UpdateService"}, principalECSTasks},
	{[]string{"lambda:CreateFunction"}, "lambda.amazonaws.com"},
	{[]string{"ec2:RunInstances"}, principalEC2},
	{[]string{"cloudformation:CreateStack"}, "cloudformation.amazonaws.com"},
	{[]string{"glue:CreateDevEndpoint"}, "glue.amazonaws.com"},
}

// TD-009
func (c *tdCheck) taskRoleEscalates() []Finding {
	if c.task == nil {
		return nil
	}
	granted := map[string]iampolicy.Grant{}
	for _, g := range c.taskPerms.Grants(inSet(escalationSet, false)) {
		granted[strings.ToLower(g.Action.String())] = g
	}
	has := func(a string) (iampolicy.Grant, bool) { g, ok := granted[strings.ToLower(a)]; return g, ok }
	var ev []Evidence
	for _, a := range escalation {
		if g, ok := has(a); ok {
			ev = append(ev, fromIAM(*g.Evidence, a, a+" on "+g.Resource))
		}
	}
	for _, q := range []struct{ action, what string }{
		{"iam:PassRole", "can pass any role"},
		{"sts:AssumeRole", "can assume any role that trusts it"},
	} {
		r := c.taskPerms.Evaluate(q.action, probeRole(c.partition, c.account))
		if r.Decision != iampolicy.NotAllowed {
			for _, e := range allows(r) {
				ev = append(ev, fromIAM(e, q.action, q.action+" on every role: "+q.what))
			}
		}
	}
	if pass, ok := has("iam:PassRole"); ok {
		for _, combo := range passRoleTo {
			n := 0
			for _, a := range combo.actions {
				if _, ok := has(a); ok {
					n++
				}
			}
			to := c.taskPerms.EvaluateRequest(iampolicy.Request{Action: "iam:PassRole", Resource: pass.Resource,
				Context: map[string][]string{"iam:PassedToService": {combo.service}}})
			if n == len(combo.actions) && to.Decision != iampolicy.NotAllowed {
				e := fromIAM(*pass.Evidence, "iam:PassRole", fmt.Sprintf("iam:PassRole on %s to %s with %s: can start compute with a role it passes", pass.Resource, combo.service, strings.Join(combo.actions, " + ")))
				ev = append(ev, e)
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{newFinding("TD-009", High, c.task.ARN, ev...)}
}

// TD-013
func (c *tdCheck) taskRoleShared() []Finding {
	if c.td.TaskRoleARN == "" {
		return nil
	}
	fams := slices.Clone(c.f.Families[c.td.TaskRoleARN])
	if !slices.Contains(fams, c.td.Family) {
		fams = append(fams, c.td.Family)
	}
	slices.Sort(fams)
	fams = slices.Compact(fams)
	if len(fams) < 2 {
		return nil
	}
	return []Finding{newFinding("TD-013", Low, c.td.TaskRoleARN, Evidence{
		Detail: fmt.Sprintf("task role used by %d families: %s", len(fams), strings.Join(fams, ", ")),
	})}
}

// TD-014: the value itself never appears in the evidence.
func (c *tdCheck) secretsInEnvironment() []Finding {
	var ev []Evidence
	for _, ct := range c.td.Containers {
		for _, kv := range ct.Environment {
			if why, ok := secretLooking(kv.Name, kv.Value); ok {
				ev = append(ev, Evidence{Detail: fmt.Sprintf("container %s: environment %s: %s", ct.Name, kv.Name, why)})
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{newFinding("TD-014", High, c.td.ARN, ev...)}
}

// serviceList names a few services, or the few it leaves out when it holds
// nearly every service (a NotAction grant such as PowerUserAccess).
func serviceList(services []string) string {
	const show = 8
	all := iampolicy.Services()
	if len(services) <= show {
		return strings.Join(services, ", ")
	}
	if rest := len(all) - len(services); rest <= show {
		var missing []string
		for _, s := range all {
			if !slices.Contains(services, s) {
				missing = append(missing, s)
			}
		}
		return fmt.Sprintf("every service except %s (%d services)", strings.Join(missing, ", "), len(services))
	}
	return fmt.Sprintf("%d services (%s, ...)", len(services), strings.Join(services[:show], ", "))
}
