package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// The actor of the exemption events: platform-admins, the approver of the
// examples, and a developer who is not one.
const (
	approver     = "arn:aws:iam::111122223333:role/platform-admins"
	approverSess = "assumed-role/platform-admins/alice"
	otherSess    = "assumed-role/developers/bob"
)

// newLedger creates the event ledger of a deployment of its own, so that
// a phase sees the corpus events as new.
func (d *demo) newLedger(ctx context.Context, suffix string) (string, error) {
	name := d.sample.LedgerTable + "-" + suffix
	return name, ledger.CreateTable(ctx, dynamodb.NewFromConfig(d.cfg), name)
}

// dryRun runs enforce mode with DRY_RUN=true on the bad revisions: each
// alert says what enforcement would do, and nothing is deregistered.
func (d *demo) dryRun(ctx context.Context, registers []string) error {
	table, err := d.newLedger(ctx, "dry-run")
	if err != nil {
		return err
	}
	return d.phase(ctx, "enforce mode, dry run (DRY_RUN=true): what would be deregistered, nothing changed", registers,
		"MODE=enforce", "DRY_RUN=true", "IDEMPOTENCY_TABLE="+table)
}

// exemptions tags reports:1 as its TagResource event records, and sends
// the event twice: as platform-admins set it (an approver, with a reason:
// the finding is suppressed, the report says why), and as a developer
// who is not an approver set it (refused: the finding stands, ECSG-003
// says why). The tags are removed afterwards, so that enforce mode judges
// reports:1 unexempted.
func (d *demo) exemptions(ctx context.Context) error {
	const name = "ecs-tagresource-exempt-task-definition.json"
	b, err := fs.ReadFile(eventstestdata.FS, name)
	if err != nil {
		return err
	}
	var e struct {
		Detail struct {
			RequestParameters struct {
				ResourceArn string `json:"resourceArn"`
				Tags        []struct{ Key, Value string }
			} `json:"requestParameters"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	arn, tags := e.Detail.RequestParameters.ResourceArn, e.Detail.RequestParameters.Tags
	var keys []string
	var set []ecstypes.Tag
	for _, t := range tags {
		set = append(set, ecstypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		keys = append(keys, t.Key)
	}
	c := ecs.NewFromConfig(d.cfg)
	if _, err := c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: set}); err != nil {
		return fmt.Errorf("tag %s: %w", arn, err)
	}
	table, err := d.newLedger(ctx, "exemptions")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\n== onregister, exemptions (EXEMPTION_APPROVERS=%s): %s tagged %s\n", approver, arn[strings.LastIndexByte(arn, '/')+1:], tagList(tags))
	// The same tagging by someone who is not an approver: its own event.
	refused := bytes.ReplaceAll(b, []byte(approverSess), []byte(otherSess))
	refused = bytes.ReplaceAll(refused, []byte(`"platform-admins"`), []byte(`"developers"`))
	refused = bytes.ReplaceAll(refused, []byte(":role/platform-admins"), []byte(":role/developers"))
	refused = renameEvent(refused, "-by-developer")
	if err := d.send(ctx, "onregister", map[string][]byte{
		"tagged by platform-admins/alice (approver)": b,
		"tagged by developers/bob (not an approver)": refused,
	}, []string{"tagged by platform-admins/alice (approver)", "tagged by developers/bob (not an approver)"},
		"MODE=alert", "EXEMPTION_APPROVERS="+approver, "IDEMPOTENCY_TABLE="+table); err != nil {
		return err
	}
	if _, err := c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: keys}); err != nil {
		return fmt.Errorf("untag %s: %w", arn, err)
	}
	fmt.Fprintf(d.w, "  (the tags are removed again: the next phases judge %s unexempted)\n", arn[strings.LastIndexByte(arn, '/')+1:])
	return nil
}

// send runs fn with env, delivers each event in order and reads back the
// alerts, printing one row per event.
func (d *demo) send(ctx context.Context, fnName string, events map[string][]byte, order []string, env ...string) error {
	fn, err := d.start(ctx, fnName, env...)
	if err != nil {
		return err
	}
	defer d.stop(fn)
	fmt.Fprintln(d.w)
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tRESULT\tFINDINGS\tRULES\tALERT\tACTION\tAWS CALLS")
	for _, name := range order {
		resp, err := fn.Invoke(ctx, events[name])
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, fn.Logs())
		}
		row, err := d.registered(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, row)
	}
	tw.Flush()
	return d.readAlerts(ctx)
}

// enforceRoleChange runs onrolechange in enforce mode with
// ENFORCE_ON_ROLE_CHANGE=true: a role change that makes a revision
// noncompliant deregisters it. Then a change to ecsguard's own topic,
// alerted as tampering.
func (d *demo) enforceRoleChange(ctx context.Context) error {
	table, err := d.newLedger(ctx, "role-change-enforce")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\n== onrolechange, enforce mode on role changes (MODE=enforce, ENFORCE_ON_ROLE_CHANGE=true, SECURITY_HUB=true)\n\n")
	fn, err := d.start(ctx, "onrolechange", "MODE=enforce", "ENFORCE_ON_ROLE_CHANGE=true", "SECURITY_HUB=true", "IDEMPOTENCY_TABLE="+table)
	if err != nil {
		return err
	}
	defer d.stop(fn)
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tRESULT\tROLES\tRE-EVALUATED\tFINDINGS\tACTIONS\tALERT\tAWS CALLS")
	tamper, err := fs.ReadFile(eventstestdata.FS, "aws-sns-settopicattributes-ecsguard-topic.json")
	if err != nil {
		return err
	}
	trust, err := fs.ReadFile(eventstestdata.FS, "iam-updateassumerolepolicy-task-role.json")
	if err != nil {
		return err
	}
	if err := emulator.Apply(ctx, d.cfg, trust); err != nil {
		return err
	}
	// The topic of the tamper event is a deployed stack's; the demo's is
	// the sample's.
	var t struct {
		Detail struct {
			RequestParameters struct {
				TopicArn string `json:"topicArn"`
			} `json:"requestParameters"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(tamper, &t); err != nil {
		return err
	}
	tamper = bytes.ReplaceAll(tamper, []byte(t.Detail.RequestParameters.TopicArn), []byte(d.sample.TopicARN))
	for _, ev := range []struct {
		name string
		b    []byte
	}{{"iam-updateassumerolepolicy-task-role", trust}, {"aws-sns-settopicattributes-ecsguard-topic", tamper}} {
		resp, err := fn.Invoke(ctx, ev.b)
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", ev.name, err, fn.Logs())
		}
		var o guard.ChangeOutcome
		if err := json.Unmarshal(resp, &o); err != nil {
			return fmt.Errorf("%s: response %s: %w", ev.name, resp, err)
		}
		d.summary.Events++
		d.summary.RoleChanges++
		d.summary.Findings += o.Findings
		var subjects, actions []string
		for _, s := range o.Subjects {
			short := s.ARN[strings.LastIndexByte(s.ARN, '/')+1:]
			subjects = append(subjects, short)
			if r := s.Action.Result.String(); r != "" {
				actions = append(actions, short+" "+r)
			}
			if s.Action.Result.Kind == rules.Deregistered {
				d.summary.Deregistered++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\n", ev.name, o.Result, orDash(strings.Join(o.Roles, ",")),
			orDash(strings.Join(subjects, ",")), o.Findings, orDash(strings.Join(actions, "; ")), yesNo(o.Alerted), o.Calls)
	}
	tw.Flush()
	return d.readAlerts(ctx)
}

// renameEvent gives a copy of an event its own envelope id and CloudTrail
// eventID, so that the event ledger sees a new event.
func renameEvent(b []byte, suffix string) []byte {
	var e map[string]any
	if json.Unmarshal(b, &e) != nil {
		return b
	}
	e["id"] = fmt.Sprint(e["id"]) + suffix
	if det, ok := e["detail"].(map[string]any); ok {
		det["eventID"] = fmt.Sprint(det["eventID"]) + suffix
	}
	out, _ := json.Marshal(e)
	return out
}

func tagList(tags []struct{ Key, Value string }) string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Key+"="+fmt.Sprintf("%q", t.Value))
	}
	return strings.Join(out, ", ")
}

// published is one SNS Publish a function made, as the recording proxy
// saw it: subject, and the MessageStructure=json body's parts.
type published struct {
	Subject    string
	Attributes map[string]string
	Parts      map[string]string // default, email, https
}

func parsePublish(body []byte) (published, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return published{}, err
	}
	p := published{Subject: v.Get("Subject"), Attributes: map[string]string{}}
	if err := json.Unmarshal([]byte(v.Get("Message")), &p.Parts); err != nil {
		return published{}, fmt.Errorf("message of %q: %w", p.Subject, err)
	}
	for i := 1; v.Has(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)); i++ {
		p.Attributes[v.Get(fmt.Sprintf("MessageAttributes.entry.%d.Name", i))] = v.Get(fmt.Sprintf("MessageAttributes.entry.%d.Value.StringValue", i))
	}
	return p, nil
}

// securityHub reads back the findings the functions imported into
// Security Hub (SECURITY_HUB=true in the enforce phases): one per subject
// and rule, those of a deregistered revision archived and resolved.
func (d *demo) securityHub(ctx context.Context) error {
	fmt.Fprintf(d.w, "\n== Security Hub: the findings imported by the enforce phases (SECURITY_HUB=true), read back with GetFindings\n\n")
	c := securityhub.NewFromConfig(d.cfg)
	var all []shtypes.AwsSecurityFinding
	p := securityhub.NewGetFindingsPaginator(c, &securityhub.GetFindingsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("securityhub:GetFindings: %w", err)
		}
		all = append(all, page.Findings...)
	}
	slices.SortFunc(all, func(a, b shtypes.AwsSecurityFinding) int {
		return strings.Compare(aws.ToString(a.Id), aws.ToString(b.Id))
	})
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tRULE\tSEVERITY\tRECORD\tWORKFLOW\tRESOURCES")
	for _, f := range all {
		var res []string
		for _, r := range f.Resources {
			res = append(res, aws.ToString(r.Type))
		}
		sev := ""
		if f.Severity != nil {
			sev = string(f.Severity.Label)
		}
		wf := ""
		if f.Workflow != nil {
			wf = string(f.Workflow.Status)
		}
		// The Id is "<subject ARN>/<rule>[/<resource ARN>]".
		subject, _, _ := strings.Cut(aws.ToString(f.Id), "/"+aws.ToString(f.GeneratorId))
		if i := strings.LastIndexByte(subject, '/'); i >= 0 {
			subject = subject[i+1:]
		} else {
			subject = subject[strings.LastIndexByte(subject, ':')+1:]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", subject, aws.ToString(f.GeneratorId), sev, f.RecordState, wf, strings.Join(res, ","))
	}
	tw.Flush()
	d.summary.SecurityHub = len(all)
	return nil
}
