package asff

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// context is what every finding of one evaluation shares.
type context struct {
	r                          rules.Report
	gone                       bool
	account, region, partition string
	now                        time.Time
}

func newContext(e Evaluation) context {
	a := parseARN(e.Report.Subject.ARN)
	return context{
		r:         e.Report,
		gone:      e.Gone,
		account:   first(e.Report.Account, a.account),
		region:    first(e.Report.Region, a.region, e.Region),
		partition: first(a.partition, "aws"),
		now:       e.Now,
	}
}

// finding fills what every finding of the subject has, for the finding of
// key: ids, product, types, times, severity, title, remediation,
// resources. It is ACTIVE and NEW until the caller says otherwise.
func (c context) finding(key, rule string, sev rules.Severity, resource string, created time.Time) Finding {
	cat, _ := rules.Lookup(rule)
	subject := c.r.Subject.ARN
	f := Finding{
		SchemaVersion: SchemaVersion,
		ID:            findingID(subject, key),
		ProductARN:    "arn:" + c.partition + ":securityhub:" + c.region + ":" + c.account + ":product/" + c.account + "/default",
		GeneratorID:   rule,
		AwsAccountID:  c.account,
		Types:         []string{FindingType},
		CreatedAt:     timestamp(created),
		UpdatedAt:     timestamp(c.now),
		Severity:      Severity{Label: sev.String()},
		Title:         limit(rule+" "+cat.Title+": "+shortName(subject), maxTitle),
		Remediation: Remediation{Recommendation: Recommendation{
			Text: limit(first(cat.Remediation, "See the rule's documentation."), maxRemediation),
			URL:  RulesURL + "#" + strings.ToLower(rule),
		}},
		SourceURL:             RulesURL + "#" + strings.ToLower(rule),
		ProductFields:         c.productFields(rule),
		Resources:             c.resources(resource),
		Workflow:              Workflow{Status: WorkflowNew},
		RecordState:           RecordActive,
		FindingProviderFields: FindingProviderFields{Severity: Severity{Label: sev.String()}, Types: []string{FindingType}},
	}
	return f
}

func (c context) productFields(rule string) map[string]string {
	pf := map[string]string{
		"ecsguard/Rule":        rule,
		"ecsguard/SubjectType": c.r.Subject.Type,
		"ecsguard/Complete":    boolText(c.r.Complete),
	}
	if !c.r.Action.Result.IsZero() {
		pf["ecsguard/Action"] = c.r.Action.Result.String()
	}
	if id := c.r.Trigger.EventID; id != "" {
		pf["ecsguard/EventId"] = id
	}
	return pf
}

// resolved is the finding of key, last imported active, that the
// evaluation no longer raises: archived, workflow RESOLVED.
func (c context) resolved(key string, seen Seen) Finding {
	rule, resource := splitKey(key)
	created := seen.CreatedAt
	if created.IsZero() {
		created = c.now
	}
	f := c.finding(key, rule, seen.Severity, resource, created)
	f.Description = c.goneLine()
	if !c.gone {
		f.Description = "Resolved: no longer raised when ecsguard evaluated " + c.r.Subject.ARN + c.byEvent() + "."
	}
	f.RecordState, f.Workflow.Status = RecordArchived, WorkflowResolved
	return f
}

// goneLine says why every finding of a deregistered revision is resolved.
func (c context) goneLine() string {
	if c.r.Action.Result.Kind == rules.Deregistered {
		return "Resolved: ecsguard deregistered the task definition revision" + c.byEvent() + "."
	}
	return "Resolved: the task definition revision is no longer ACTIVE."
}

func (c context) byEvent() string {
	t := c.r.Trigger
	if t.EventID == "" {
		return ""
	}
	return " (event " + t.EventID + ", " + t.EventName + ")"
}

// resources are the subject and, when the finding names another, that
// resource: the role of a task definition's finding.
func (c context) resources(other string) []Resource {
	out := []Resource{c.resource(c.r.Subject.ARN)}
	if other != "" && other != c.r.Subject.ARN && len(out) < maxResources {
		out = append(out, c.resource(other))
	}
	return out
}

func (c context) resource(id string) Resource {
	a := parseARN(id)
	return Resource{Type: resourceType(a), ID: id, Partition: first(a.partition, c.partition), Region: first(a.region, c.region)}
}

// resourceType is the ASFF resource type of an ARN, Other when ASFF has
// none for it or it is no ARN
// (https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resources.html).
func resourceType(a arn) string {
	switch {
	case a.service == "ecs" && strings.HasPrefix(a.resource, "task-definition/"):
		return "AwsEcsTaskDefinition"
	case a.service == "iam" && strings.HasPrefix(a.resource, "role/"):
		return "AwsIamRole"
	case a.service == "iam" && strings.HasPrefix(a.resource, "policy/"):
		return "AwsIamPolicy"
	case a.service == "sns":
		return "AwsSnsTopic"
	case a.service == "kms" && strings.HasPrefix(a.resource, "key/"):
		return "AwsKmsKey"
	case a.service == "events" && strings.HasPrefix(a.resource, "rule/"):
		return "AwsEventsRule"
	}
	return "Other"
}

// findingID is the subject's ARN and the key: stable across evaluations.
// A key whose resource would push the Id over ASFF's 512 characters names
// the resource by a hash instead.
func findingID(subject, key string) string {
	id := subject + "/" + key
	if len(id) <= maxID {
		return id
	}
	rule, resource := splitKey(key)
	sum := sha256.Sum256([]byte(resource))
	return limit(subject+"/"+rule+"/"+hex.EncodeToString(sum[:8]), maxID)
}

type arn struct{ partition, service, region, account, resource string }

func parseARN(s string) arn {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return arn{}
	}
	return arn{partition: p[1], service: p[2], region: p[3], account: p[4], resource: p[5]}
}

// shortName is the last part of an ARN: web-api:42, web-api-task.
func shortName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s[strings.LastIndexByte(s, ':')+1:]
}

// timestamp is an ASFF timestamp: RFC 3339 in UTC, to the millisecond.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
