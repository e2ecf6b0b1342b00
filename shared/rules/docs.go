package rules

import (
	"fmt"
	"io"
	"strings"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// WriteMarkdown writes the rule catalog as the Markdown of docs/rules.md.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# ecsguard rules\n\n")
	b.WriteString("<!-- Generated from the rule catalog in shared/rules/catalog.go by `make docs`. Do not edit. -->\n\n")
	b.WriteString("Severities are Security Hub's. Exempt a task definition or role from rules with the tag\n")
	b.WriteString("`" + TagExempt + "` (comma-separated rule IDs, or `*`) and say why in `" + TagExemptReason + "`: an exemption\n")
	b.WriteString("without a reason, or (with `EXEMPTION_APPROVERS` set) not set by an approver, is ignored and its finding stays open,\n")
	b.WriteString("its evidence saying why. Suppressed findings stay in the report, marked, and are counted in alerts and logs.\n")
	b.WriteString(strings.Join(notExemptable[:len(notExemptable)-1], ", ") + " and " + notExemptable[len(notExemptable)-1] + " cannot be exempted.\n")
	var hides []string
	for _, h := range subsumption {
		who := h.rule
		if h.severity != 0 {
			who += " " + h.severity.String()
		}
		hides = append(hides, who+" hides "+strings.Join(h.hides, ", "))
	}
	fmt.Fprintf(&b, "A stronger finding hides the weaker ones it covers on the same role, never one of a higher severity (%s),\n", strings.Join(hides, "; "))
	b.WriteString("so one mistake is reported once; exempting the stronger finding accepts the mistake, and what it covers stays hidden.\n\n")
	b.WriteString("| ID | rule | severity |\n|---|---|---|\n")
	for _, r := range catalog {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, r.Anchor(), r.Title, severityList(r.Severities))
	}
	b.WriteString(decidingSection)
	fmt.Fprintf(&b, "Wildcard actions are expanded against the IAM action catalog of %s (%s).\n", iampolicy.CatalogDate, iampolicy.CatalogSource)
	for _, r := range catalog {
		fmt.Fprintf(&b, "\n## %s\n\n%s", r.ID, r.Markdown())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Anchor is the fragment of the rule's section in docs/rules.md.
func (r Rule) Anchor() string { return strings.ToLower(r.ID) }

// Markdown is the rule's section of docs/rules.md below its heading: the
// title and severities, why, the remediation and how it reads conditions.
func (r Rule) Markdown() string {
	s := fmt.Sprintf("**%s** (%s)\n\n%s\n\n**Remediation.** %s\n", r.Title, severityList(r.Severities), r.Why, r.Remediation)
	if r.Conditions != "" {
		s += "\n**Conditions.** " + r.Conditions + "\n"
	}
	return s
}

func severityList(ss []Severity) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.String()
	}
	return strings.Join(names, " / ")
}

// decidingSection explains how permissions are decided, with the AWS pages
// each semantic comes from.
const decidingSection = `
## How permissions are decided

ecsguard evaluates a role's identity policies and permissions boundary as
[IAM's policy evaluation logic](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
does: an explicit Deny wins, and an action needs an Allow in the policies
and, when there is one, in the boundary. Service control policies, resource
control policies, session policies and resource policies are out of scope.

**The request is a role session's.** A task role is used by the task's
containers, an execution role by the ECS agent, through temporary
credentials ECS obtains for the role. Conditions are decided for such a
request, from the availability of each key in
[AWS global condition context keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):

- never present: aws:username (IAM users only), aws:MultiFactorAuthAge,
  aws:FederatedProvider, aws:PrincipalServiceName(sList),
  aws:Ec2InstanceSource*, aws:referer, aws:SourceAccount, aws:SourceArn,
  aws:SourceOrgID, aws:SourceOrgPaths;
- known: aws:PrincipalType = AssumedRole, aws:PrincipalArn = the role's ARN,
  aws:PrincipalAccount, aws:MultiFactorAuthPresent = false (present for
  temporary credentials; ECS uses no MFA), aws:PrincipalIsAWSService = false,
  aws:PrincipalTag/* from the role's tags;
- present with a value only the request has: aws:userid, aws:CurrentTime,
  aws:EpochTime, aws:TokenIssueTime, aws:SecureTransport, aws:RequestedRegion,
  aws:UserAgent, aws:ViaAWSService;
- a service's own keys (ec2:InstanceType, iam:PassedToService) are absent
  from requests to other services; iam:PassedToService is given for the
  service a rule asks about (ecs-tasks.amazonaws.com, lambda.amazonaws.com).

On an absent key, operators behave as the
[condition operators](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
page says: positive operators are false, negated ones (StringNotEquals,
ArnNotLike...) true, ...IfExists true, Null tests presence; ForAllValues is
true and ForAnyValue false
([multivalued keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)).
Anything else is undecidable: the statement applies *conditionally*. So
AWS's "deny unless MFA" guard (BoolIfExists aws:MultiFactorAuthPresent false)
denies everything a task does, an Allow on aws:username never applies, and a
condition on aws:SourceIp stays conditional.

**Policy variables** follow
[Variables and tags](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
only documents with "Version": "2012-10-17" have them (otherwise
${aws:username} is literal text); a variable without a value matches nothing
unless it has a default (${aws:PrincipalTag/team, 'none'}); ${*}, ${?} and
${$} are the literal characters; a variable whose value only the request has
matches like a wildcard, conditionally.

**Resource ARNs.** "*" and "?" match within one colon-separated segment; a
"*" that ends a segment can match past colons
([Resource element](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards)).
A pattern without a colon ("*", "**", "*?") matches anything. "*", "**",
"*?", "arn:*", "arn:aws:*" and NotResource count as every resource; so does a
service-wide ARN for that service's actions ("arn:aws:s3:::*",
"arn:aws:dynamodb:*:*:table/*"). An ARN IAM Access Analyzer calls invalid (a
wildcard in the service segment, upper case in the partition or service) is
read ignoring that case, only conditionally, and the evidence says so.

**Actions.** Action wildcards are case-insensitive and are expanded against
the IAM action catalog. A wildcard or NotAction also stands for what it
matches beyond the catalog: actions newer than its data and services it does
not know. A service counts as allowed whole only when a wildcard or NotAction
covers it (naming every action the catalog lists is not enough: ECS Exec's
four ssmmessages actions are not "ssmmessages:*"), and every action of it is
allowed on every resource. sts:GetCallerIdentity needs no permission
([GetCallerIdentity](https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html))
and is never counted as a grant.

**Direction.** What cannot be decided is reported, never assumed away: each
rule below says under **Conditions** whether it reads an undecidable
permission as granted (the too-broad rules) or as a possible lack (TD-006).
Facts that could not be read make a report incomplete; no verdict depends on
them.

`
