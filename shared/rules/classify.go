package rules

import (
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// Class is a role's part in ECS. A role can have several.
type Class string

// The classes of SPEC §3. Task and execution roles are known from the task
// definitions that reference them; the others are secondary.
const (
	ClassTask       Class = "task"
	ClassExecution  Class = "execution"
	ClassEvents     Class = "events"     // EventBridge / Scheduler runs ECS tasks
	ClassAutoscale  Class = "autoscale"  // Application Auto Scaling of ECS services
	ClassInstance   Class = "instance"   // EC2 container instance profile
	ClassService    Class = "service"    // legacy ecsServiceRole
	ClassCodeDeploy Class = "codedeploy" // CodeDeploy blue/green for ECS
)

// Service principals of the secondary classes.
const (
	principalECSTasks   = "ecs-tasks.amazonaws.com"
	principalEvents     = "events.amazonaws.com"
	principalScheduler  = "scheduler.amazonaws.com"
	principalAutoscale  = "application-autoscaling.amazonaws.com"
	principalEC2        = "ec2.amazonaws.com"
	principalECS        = "ecs.amazonaws.com"
	principalCodeDeploy = "codedeploy.amazonaws.com"
)

// Managed policies the classifier and rules recognise.
const (
	policyTaskExecution   = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	policyEventsRole      = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceEventsRole"
	policyAutoscaleRole   = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole"
	policyForEC2Role      = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
	policyServiceRole     = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceRole"
	policyCodeDeploy      = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECS"
	policyCodeDeployLimit = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited"
)

// SecondaryClasses classifies a role that is not (only) a task or execution
// role: first by use (what references it), then by trust principal together
// with what it can do, then by conventional name. Service-linked roles have
// no class: ecsguard never judges them.
func SecondaryClasses(r *Role) []Class {
	if r == nil || r.ServiceLinked() {
		return nil
	}
	var out []Class
	add := func(c Class) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, u := range r.Uses {
		switch u.Kind {
		case UseEventsTarget, UseSchedule:
			add(ClassEvents)
		case UseScalableTarget:
			add(ClassAutoscale)
		case UseCodeDeployGroup:
			add(ClassCodeDeploy)
		case UseServiceRole:
			add(ClassService)
		}
	}
	trusts := func(svc string) bool { return trustsService(r.Trust, svc) }
	var perms *iampolicy.Set
	// can: allowed on some resource. A role scoped to the task definitions
	// it runs, as SR-001 asks, is still an events role.
	can := func(action string) bool {
		if perms == nil {
			perms = r.Permissions()
		}
		return len(perms.Grants(func(a iampolicy.Action) bool { return strings.EqualFold(a.String(), action) })) > 0
	}
	attached := func(arn string) bool { return slices.Contains(r.Attached, arn) }

	if (trusts(principalEvents) || trusts(principalScheduler)) && (can("ecs:RunTask") || attached(policyEventsRole)) {
		add(ClassEvents)
	}
	if trusts(principalAutoscale) && (attached(policyAutoscaleRole) || can("ecs:UpdateService")) {
		add(ClassAutoscale)
	}
	if trusts(principalEC2) && r.used(UseInstanceProfile) && (attached(policyForEC2Role) || can("ecs:RegisterContainerInstance")) {
		add(ClassInstance)
	}
	if trusts(principalECS) && attached(policyServiceRole) {
		add(ClassService)
	}
	if trusts(principalCodeDeploy) && (attached(policyCodeDeploy) || attached(policyCodeDeployLimit)) {
		add(ClassCodeDeploy)
	}
	switch strings.ToLower(r.Name) {
	case "ecseventsrole":
		add(ClassEvents)
	case "ecsautoscalerole":
		add(ClassAutoscale)
	case "ecsinstancerole":
		add(ClassInstance)
	case "ecsservicerole":
		add(ClassService)
	case "ecscodedeployrole":
		add(ClassCodeDeploy)
	}
	return out
}

// used reports whether something of kind k references the role.
func (r *Role) used(k UseKind) bool {
	return slices.ContainsFunc(r.Uses, func(u Use) bool { return u.Kind == k })
}

// trustsService reports whether the trust policy has an Allow statement that
// lets the service principal assume the role.
func trustsService(trust *iampolicy.Document, svc string) bool {
	if trust == nil {
		return false
	}
	for _, st := range trust.Statements {
		if st.Effect == iampolicy.Allow && st.Principal.HasService(svc) && assumes(st) {
			return true
		}
	}
	return false
}

// assumes reports whether a trust statement's actions include sts:AssumeRole.
func assumes(st iampolicy.Statement) bool {
	set := iampolicy.NewSet([]iampolicy.Policy{{Document: &iampolicy.Document{Statements: []iampolicy.Statement{withoutCondition(st)}}}}, nil)
	return set.Decide("sts:AssumeRole", "*") != iampolicy.NotAllowed
}

func withoutCondition(st iampolicy.Statement) iampolicy.Statement {
	st.Condition = nil
	st.Resource, st.NotResource = nil, nil
	return st
}
