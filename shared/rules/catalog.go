package rules

// Rule is one entry of the rule catalog. Severity is the rule's usual
// severity; some rules grade a finding higher or lower (Severities lists
// every severity a rule can give).
type Rule struct {
	ID          string
	Title       string
	Severity    Severity
	Severities  []Severity
	Why         string
	Remediation string
	// Conditions says how the rule reads a permission that depends on a
	// condition it cannot decide: as granted (the too-broad rules), or as
	// a possible lack (TD-006). Empty for rules that read no permission.
	Conditions string
}

// How the rules read undecidable conditions (docs/rules.md).
const (
	readsGranted = "Counts an Allow whose condition cannot be decided as granted, and a Deny whose condition cannot be decided as not removing it: the rule reports what the role may be able to do. Wildcards count the actions they match beyond the IAM action catalog, and a service the catalog does not know counts whole."
	readsLack    = "Counts a Deny that holds for the task's session as a lack, and a Deny whose condition cannot be decided as a possible lack (evidence \"conditional\"). An Allow whose condition cannot be decided is not a lack. No lack is claimed for an execution role whose policies could not all be read: the report is incomplete instead."
	readsTrust   = "Reads who the trust policy admits through sts:AssumeRole, sts:AssumeRoleWithWebIdentity and sts:AssumeRoleWithSAML. A statement with conditions still admits its principal (the evidence says \"with conditions\"); \"*\", a NotPrincipal or any token of a public identity provider without a condition on who it names is CRITICAL."
)

// Catalog returns every rule, in ID order. The slice is the caller's.
func Catalog() []Rule {
	out := make([]Rule, len(catalog))
	copy(out, catalog)
	return out
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	for _, r := range catalog {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

func sev(s ...Severity) []Severity { return s }

// IncompleteRule is reported when a fact could not be loaded, so that an
// evaluation that could not see everything never reads as compliant.
const IncompleteRule = "ECSG-001"

// TamperingRule is reported when ecsguard's own roles, topic, key or rules
// are changed by someone else: the guardrail itself is being weakened.
const TamperingRule = "ECSG-002"

var catalog = []Rule{
	{
		ID: IncompleteRule, Title: "evaluation incomplete: a role or policy could not be read", Severity: High, Severities: sev(High),
		Why:         "A role, policy or document that the evaluation needs could not be loaded (deleted, access denied, absent from the export, malformed). What could not be seen cannot be called compliant, and enforcement never acts on an incomplete evaluation.",
		Remediation: "Check the errors in the report: grant ecsguard read access (iam:GetRole, iam:GetRolePolicy, iam:GetPolicyVersion...), export the whole account, or fix the reference to a role that no longer exists.",
	},
	{
		ID: TamperingRule, Title: "ecsguard's own role, topic, key or rule was changed", Severity: Critical, Severities: sev(Critical),
		Why:         "Whoever can change the guardrail's roles, its alert topic, the key that encrypts it or the EventBridge rules that feed it can silence it before doing what it would have caught.",
		Remediation: "Check the change in CloudTrail (the event and actor are in the evidence), revert it with the stack (cdk deploy), and restrict who may change ecsguard's resources (an SCP, or a permissions boundary on administrators).",
	},
	{
		ID: UnknownExemptionRule, Title: "exemption tag names unknown rules", Severity: Informational, Severities: sev(Informational),
		Why:         "An ID in " + TagExempt + " that is not a rule of the catalog (a typo such as TD-08, a rule that does not exist) exempts nothing: the finding it was meant for stays open, while whoever set the tag believes it accepted.",
		Remediation: "Write the rule IDs of docs/rules.md in " + TagExempt + " (comma-separated, or *), or remove the tag.",
	},
	{
		ID: "TD-001", Title: "task role and execution role are the same role", Severity: High, Severities: sev(High),
		Why:         "The execution role serves the ECS agent (image pulls, logs, secrets for the environment); the task role serves the application. One role for both hands the application every secret and registry the agent can reach, and the agent everything the application can do.",
		Remediation: "Create a separate task role holding only what the application calls, and keep the execution role for the agent (AmazonECSTaskExecutionRolePolicy plus the task's own secrets).",
	},
	{
		ID: "TD-002", Title: "task role carries execution-plane permissions", Severity: Medium, Severities: sev(Medium),
		Why:         "Pulling images and writing awslogs are the agent's job, done with the execution role. On the task role they only widen what code in the container can do.",
		Remediation: "Detach AmazonECSTaskExecutionRolePolicy (or the ECR pull statements) from the task role; put them on the execution role.",
		Conditions:  readsGranted,
	},
	{
		ID: "TD-003", Title: "execution role allows actions outside the execution plane", Severity: High, Severities: sev(High, Medium),
		Why:         "The execution role only needs to pull images, write logs and read the task's secrets, parameters, environment files and keys. Anything more is reachable by whoever can pass the role, with no application need.",
		Remediation: "Reduce the execution role to AmazonECSTaskExecutionRolePolicy plus secretsmanager:GetSecretValue, ssm:GetParameters, kms:Decrypt and s3:GetObject on the task's own resources; move application permissions to the task role.",
		Conditions:  readsGranted,
	},
	{
		ID: "TD-004", Title: "execution role can read every secret, parameter or key", Severity: Medium, Severities: sev(Medium),
		Why:         "Secret and parameter reads on \"*\" (or a whole-service ARN) let the role read every secret in the account, not only those this task definition references.",
		Remediation: "Scope secretsmanager:GetSecretValue and ssm:GetParameters to the ARNs the task definition references (a name prefix such as secret:prod/web-* is fine).",
		Conditions:  readsGranted,
	},
	{
		ID: "TD-005", Title: "execution role set but nothing in the task definition needs it", Severity: Low, Severities: sev(Low),
		Why:         "No private ECR image on Fargate/external instances, no awslogs there, no secrets, no registry credentials, no environment files, no FireLens S3 config: the role is an unused credential.",
		Remediation: "Remove executionRoleArn from the task definition, or ignore if you are about to add secrets or a private image.",
	},
	{
		ID: "TD-006", Title: "execution role missing or lacks a permission the task needs", Severity: High, Severities: sev(High),
		Why:         "The task cannot start: the agent needs the execution role to pull the private image, create the log stream or fetch the referenced secrets.",
		Remediation: "Set executionRoleArn to a role that trusts ecs-tasks.amazonaws.com and grant it the missing actions on the resources listed in the evidence.",
		Conditions:  readsLack,
	},
	{
		ID: "TD-007", Title: "no task role on a task that can run on EC2 or external instances", Severity: Medium, Severities: sev(Medium),
		Why:         "Without a task role, containers on EC2 or external instances can fall back to the instance role's credentials through the instance metadata service: every task on the host shares the host's permissions.",
		Remediation: "Give the task definition its own task role (even one with no policies), and block container access to IMDS (ECS_AWSVPC_BLOCK_IMDS, hop limit 1).",
	},
	{
		ID: "TD-008", Title: "task role allows all actions, or a whole service, on every resource", Severity: Critical, Severities: sev(Critical, High),
		Why:         "Full administrator rights (CRITICAL) or every action of a service on \"*\" (HIGH) in the task role give any code running in the container, including a compromised dependency, the run of the account or the service.",
		Remediation: "Replace the wildcard grants with the specific actions and resource ARNs the application calls; use IAM Access Analyzer policy generation from CloudTrail to find them.",
		Conditions:  readsGranted,
	},
	{
		ID: "TD-009", Title: "task role allows privilege escalation", Severity: High, Severities: sev(High),
		Why:         "Actions such as iam:PassRole on any role, attaching or writing policies, new policy versions, access keys, or passing a role to a new task let code in the container give itself more permissions than the role holds.",
		Remediation: "Remove the IAM write actions from the task role; scope iam:PassRole to the exact role ARNs with an iam:PassedToService condition; scope sts:AssumeRole to named roles.",
		Conditions:  readsGranted,
	},
	{
		ID: "TD-010", Title: "role trust admits a principal other than ecs-tasks.amazonaws.com", Severity: Medium, Severities: sev(Critical, Medium),
		Why:         "A task or execution role should be assumable by ECS tasks only. Another service or account in its trust can use the role's permissions outside ECS; \"*\" without conditions lets anyone do so.",
		Remediation: "Remove the extra principals from the trust policy, or give them a role of their own.",
		Conditions:  readsTrust,
	},
	{
		ID: "TD-011", Title: "role trust lacks aws:SourceAccount / aws:SourceArn (confused deputy)", Severity: Low, Severities: sev(Low),
		Why:         "Without a source condition, ECS acting for another account could be made to assume the role (the confused deputy problem).",
		Remediation: "Add \"Condition\": {\"StringEquals\": {\"aws:SourceAccount\": \"<account>\"}} or an ArnLike aws:SourceArn of arn:aws:ecs:<region>:<account>:* to the ecs-tasks statement.",
		Conditions:  readsTrust,
	},
	{
		ID: "TD-012", Title: "role trust does not allow ecs-tasks.amazonaws.com", Severity: High, Severities: sev(High),
		Why:         "ECS cannot assume the role, so tasks fail to start (execution role) or get no credentials (task role).",
		Remediation: "Add a trust statement allowing the service principal ecs-tasks.amazonaws.com to sts:AssumeRole.",
		Conditions:  readsTrust,
	},
	{
		ID: "TD-013", Title: "task role serves more than one task definition family", Severity: Low, Severities: sev(Low),
		Why:         "A shared task role holds the union of every application's needs, and CloudTrail cannot tell the applications apart.",
		Remediation: "Give each family its own task role with only what that application uses.",
	},
	{
		ID: "TD-014", Title: "container environment holds a secret-looking value", Severity: High, Severities: sev(High),
		Why:         "Plain environment values are stored in the task definition, visible to anyone with ecs:DescribeTaskDefinition, in every revision, forever.",
		Remediation: "Move the value to Secrets Manager or SSM Parameter Store and reference it from the container's secrets; rotate the exposed value.",
	},
	{
		ID: "SR-001", Title: "events role can pass any role or run any task", Severity: High, Severities: sev(High, Low),
		Why:         "An EventBridge or Scheduler role only needs to run the scheduled task definitions and pass their roles to ECS. iam:PassRole on \"*\" that iam:PassedToService does not limit to ecs-tasks.amazonaws.com lets it hand any role to any service (HIGH). Limited to ECS, as AWS's AmazonEC2ContainerServiceEventsRole grants it, or ecs:RunTask on \"*\", it can still run any task definition with any role (LOW).",
		Remediation: "Scope ecs:RunTask to the scheduled task definition ARNs and iam:PassRole to their task and execution role ARNs, with iam:PassedToService = ecs-tasks.amazonaws.com.",
		Conditions:  readsGranted,
	},
	{
		ID: "SR-002", Title: "events role allows more than ecs:RunTask, iam:PassRole and ecs:TagResource", Severity: Medium, Severities: sev(Medium),
		Why:         "Whoever can create an EventBridge rule with this role gets everything else it allows.",
		Remediation: "Use AmazonEC2ContainerServiceEventsRole, or a policy with only ecs:RunTask, iam:PassRole and ecs:TagResource, scoped.",
		Conditions:  readsGranted,
	},
	{
		ID: "SR-003", Title: "autoscale role allows more than ECS service autoscaling needs", Severity: Medium, Severities: sev(Medium, Informational),
		Why:         "Application Auto Scaling only needs to describe and update ECS services and manage their CloudWatch alarms. The service-linked role AWSServiceRoleForApplicationAutoScaling_ECSService does this without a custom role.",
		Remediation: "Remove the custom ecsAutoscaleRole and let Application Auto Scaling use its service-linked role; otherwise keep it to ecs:DescribeServices, ecs:UpdateService and the cloudwatch alarm actions.",
		Conditions:  readsGranted,
	},
	{
		ID: "SR-004", Title: "container instance role allows more than AmazonEC2ContainerServiceforEC2Role", Severity: Medium, Severities: sev(High, Medium),
		Why:         "Containers on the host can reach the instance role through the instance metadata service, so whatever it allows, every task on the host can do.",
		Remediation: "Keep the instance role to AmazonEC2ContainerServiceforEC2Role; give applications task roles; block container access to IMDS.",
		Conditions:  readsGranted,
	},
	{
		ID: "SR-005", Title: "legacy ECS service role or broad CodeDeploy role", Severity: Low, Severities: sev(Low),
		Why:         "ecsServiceRole is replaced by the service-linked role AWSServiceRoleForECS; AWSCodeDeployRoleForECS grants s3, sns, lambda and PassRole broadly where AWSCodeDeployRoleForECSLimited fits.",
		Remediation: "Let ECS use AWSServiceRoleForECS and delete ecsServiceRole; attach AWSCodeDeployRoleForECSLimited instead of AWSCodeDeployRoleForECS.",
	},
	{
		ID: "SR-006", Title: "secondary ECS role trusts a principal other than its service", Severity: High, Severities: sev(High),
		Why:         "An events, autoscale, instance, service or CodeDeploy role assumable by another principal lends its ECS permissions (run tasks, pass roles, update services) outside the service it exists for.",
		Remediation: "Limit the trust policy to the role's service principal (events/scheduler, application-autoscaling, ec2, ecs or codedeploy .amazonaws.com).",
		Conditions:  readsTrust,
	},
}
