package rules

import (
	"strings"
	"sync"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// Facts is everything one evaluation needs, as plain values. The subject is
// TaskDefinition when set, else Role (a secondary ECS role).
type Facts struct {
	Account string
	Region  string
	Trigger Trigger

	TaskDefinition *TaskDefinition
	Role           *Role // the subject when TaskDefinition is nil

	// Roles holds the task definition's task and execution roles by ARN.
	Roles map[string]*Role
	// Families maps a task role ARN to the task definition families known to
	// use it (TD-013). The subject's own family may be listed or not.
	Families map[string][]string
	// Missing lists facts that could not be loaded. A report with any is
	// incomplete: it never counts as compliant and never enforces.
	Missing []FactError
	// Tampered, when set, is the subject: one of ecsguard's own resources
	// that someone else changed (TamperingRule).
	Tampered *Tampered
	// Unread, when no other subject is set, is what could not be read at
	// all, such as the policy whose roles could not be listed: the report
	// is about it, incomplete, with Missing as its errors.
	Unread *Subject
	// Exemptions says which exemption tags hold: the approvers, and who
	// set the tags of the subject and its roles. The zero value accepts
	// every exemption that gives a reason.
	Exemptions Exemptions
	// Cache, when set, shares each role's compiled permissions (and the
	// grants listed from them) across the evaluations that use the same
	// *Role: a role change re-evaluating many revisions of one role
	// computes them once.
	Cache *Cache
}

// Cache holds compiled permissions by role. It is safe for concurrent use;
// the zero value is not: use [NewCache]. A role must not be changed once
// it has been evaluated with a cache.
type Cache struct {
	mu   sync.Mutex
	sets map[*Role]*iampolicy.Set
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{sets: map[*Role]*iampolicy.Set{}} }

// permissions is r.Permissions(), once per role with a cache.
func (c *Cache) permissions(r *Role) *iampolicy.Set {
	if c == nil {
		return r.Permissions()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sets[r]
	if !ok {
		s = r.Permissions()
		c.sets[r] = s
	}
	return s
}

// Tampered is a change to one of ecsguard's own resources.
type Tampered struct {
	Resource string // its ARN
	Change   string // what was done: "PutRolePolicy", "DisableRule", ...
}

// FactError is a fact that could not be loaded: Subject names it (a role
// ARN, a policy ARN), Err says why.
type FactError struct {
	Subject string
	Err     error
}

func (e FactError) Error() string { return e.Subject + ": " + e.Err.Error() }

// TaskDefinition is an ECS task definition as DescribeTaskDefinition returns
// it. The JSON names are the ECS API's, so `aws ecs describe-task-definition`
// output decodes into it directly.
type TaskDefinition struct {
	ARN                     string      `json:"taskDefinitionArn"`
	Family                  string      `json:"family"`
	Revision                int         `json:"revision"`
	TaskRoleARN             string      `json:"taskRoleArn,omitempty"`
	ExecutionRoleARN        string      `json:"executionRoleArn,omitempty"`
	NetworkMode             string      `json:"networkMode,omitempty"`
	RequiresCompatibilities []string    `json:"requiresCompatibilities,omitempty"`
	Containers              []Container `json:"containerDefinitions"`
	Status                  string      `json:"status,omitempty"`
	// Tags come from the response's top-level "tags" (include TAGS).
	Tags map[string]string `json:"-"`
	// Unresolved names the values of the definition that are not known
	// (a template's expression decided at deployment), left out of it. A
	// rule that would claim the definition lacks something does not run:
	// the left-out value may be it. Their errors are in [Facts.Missing].
	Unresolved []string `json:"-"`
}

// Container is the part of a container definition the rules read.
type Container struct {
	Name                  string                 `json:"name"`
	Image                 string                 `json:"image"`
	Environment           []KeyValue             `json:"environment,omitempty"`
	EnvironmentFiles      []EnvironmentFile      `json:"environmentFiles,omitempty"`
	Secrets               []Secret               `json:"secrets,omitempty"`
	LogConfiguration      *LogConfiguration      `json:"logConfiguration,omitempty"`
	RepositoryCredentials *RepositoryCredentials `json:"repositoryCredentials,omitempty"`
	FirelensConfiguration *FirelensConfiguration `json:"firelensConfiguration,omitempty"`
}

// KeyValue is an environment variable.
type KeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// EnvironmentFile is an S3 object of environment variables.
type EnvironmentFile struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Secret is a secret or parameter injected by the agent: ValueFrom is a
// Secrets Manager ARN (optionally with a JSON key and version suffix) or an
// SSM parameter ARN or name.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// LogConfiguration is a container's log driver.
type LogConfiguration struct {
	LogDriver     string            `json:"logDriver"`
	Options       map[string]string `json:"options,omitempty"`
	SecretOptions []Secret          `json:"secretOptions,omitempty"`
}

// RepositoryCredentials is private registry authentication.
type RepositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

// FirelensConfiguration is a FireLens log router's configuration.
type FirelensConfiguration struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

// Role is an IAM role with the facts the rules read.
type Role struct {
	ARN  string
	Name string
	Path string
	// Trust is the assume-role policy; nil when it could not be read.
	Trust *iampolicy.Document
	// Policies are the inline policies (Name "inline:<name>") and the
	// default versions of the attached managed policies (Name = policy ARN).
	Policies []iampolicy.Policy
	// Attached lists the ARNs of the attached managed policies.
	Attached []string
	// Boundary is the permissions boundary, nil when none is set.
	Boundary *iampolicy.Policy
	Tags     map[string]string
	// Uses says what references the role beyond task definitions, as found
	// by the loader: EventBridge rules and schedules that run ECS tasks with
	// it, scalable targets, the instance profiles that hold it.
	Uses []Use
	// Missing lists the facts of this role that could not be read: its
	// trust policy, an inline or managed policy, its boundary, its uses. A
	// role with any is incomplete: [Evaluate] adds them to the report's
	// errors, and no rule claims the role lacks a permission, since the
	// unread fact may grant it.
	Missing []FactError
}

// Incomplete reports whether some fact of the role could not be read.
func (r *Role) Incomplete() bool { return r != nil && len(r.Missing) > 0 }

// Use is a reference to a role from another ECS-related resource.
type Use struct {
	Kind     UseKind `json:"kind"`
	Resource string  `json:"resource"` // the rule or schedule ARN, the scalable target's resource id
}

// UseKind names what references a role.
type UseKind string

// The references the classifier knows.
const (
	UseEventsTarget    UseKind = "events-target"    // EventBridge rule target with EcsParameters
	UseSchedule        UseKind = "schedule"         // EventBridge Scheduler schedule with EcsParameters
	UseScalableTarget  UseKind = "scalable-target"  // Application Auto Scaling ECS service
	UseCodeDeployGroup UseKind = "codedeploy-group" // CodeDeploy ECS deployment group
	UseServiceRole     UseKind = "ecs-service-role" // CreateService "role"
	UseInstanceProfile UseKind = "instance-profile" // an EC2 instance profile holds the role
)

// Trusts reports whether the role's trust policy lets the service principal
// (such as "events.amazonaws.com") assume it.
func (r *Role) Trusts(service string) bool {
	return r != nil && trustsService(r.Trust, service)
}

// ServiceLinked reports whether the role is an AWS service-linked role,
// which ecsguard never flags: AWS owns its policies.
func (r *Role) ServiceLinked() bool {
	return strings.HasPrefix(r.Path, "/aws-service-role/")
}

// Permissions compiles the role's identity policies and boundary for the
// requests of a session an AWS service started for it (ECS for a task's
// containers or its agent, EventBridge, EC2): conditions on keys such a
// session never has, or has with known values, are decided
// ([iampolicy.RoleSession]); the role's tags decide aws:PrincipalTag.
func (r *Role) Permissions() *iampolicy.Set {
	return iampolicy.NewSetIn(r.session(), r.Policies, r.Boundary)
}

func (r *Role) session() iampolicy.Context {
	return iampolicy.RoleSession(r.ARN, r.Tags)
}
