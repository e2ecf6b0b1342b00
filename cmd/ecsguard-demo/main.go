// Command ecsguard-demo runs ecsguard end to end on this machine, with no
// AWS account: it starts the local AWS emulator, seeds the sample account of
// events-testdata, and runs both functions as real Lambda processes under
// the Lambda Runtime Interface Emulator: onrolechange sweeps the role index;
// onregister handles the corpus events in alert mode, then in enforce mode;
// onrolechange handles four IAM changes, made in the account first as AWS
// would have; then the same functions guard a two-member organization from
// the sample account. It prints each outcome, the alerts read back from a
// queue subscribed to the findings topic, and what was deregistered. Its
// last line is a JSON summary. `make demo` runs it after installing the emulator.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// Summary is the demo's last line.
type Summary struct {
	Events       int `json:"events"`
	RoleChanges  int `json:"roleChanges"`
	Findings     int `json:"findings"`
	Alerts       int `json:"alerts"`
	Deregistered int `json:"deregistered"`
	// Accounts are the member accounts the organization run guarded.
	Accounts int `json:"accounts"`
	// SecurityHub counts the findings read back from Security Hub.
	SecurityHub int `json:"securityHubFindings"`
}

func main() {
	venv := flag.String("venv", emulator.DefaultVenv(), "Python venv with moto `dir`/bin/moto_server")
	rie := flag.String("rie", emulator.DefaultRIE(), "Lambda Runtime Interface Emulator `binary`")
	logs := flag.Bool("logs", false, "print the functions' own log lines too")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *venv, *rie, *logs); err != nil {
		fmt.Fprintln(os.Stderr, "ecsguard-demo:", err)
		os.Exit(1)
	}
}

type demo struct {
	w      io.Writer
	rie    string
	moto   *emulator.Moto
	sample emulator.Sample
	cfg    aws.Config
	boot   map[string]string // function → bootstrap
	logs   bool
	// proxy stands between the functions and the emulator, and keeps what
	// they publish.
	proxy   *emulator.FaultProxy
	summary Summary
}

func run(ctx context.Context, w io.Writer, venv, rie string, logs bool) error {
	moto, err := emulator.StartMoto(ctx, venv)
	if err != nil {
		return err
	}
	defer moto.Close()
	d := &demo{w: w, rie: rie, moto: moto, logs: logs, cfg: moto.Config(ctx, emulator.SampleAccount)}
	if d.proxy, err = emulator.StartFaultProxy(moto.URL()); err != nil {
		return err
	}
	defer d.proxy.Close()
	d.proxy.Record("Publish")
	if d.sample, err = emulator.Seed(ctx, d.cfg); err != nil {
		return err
	}
	fmt.Fprintf(w, "Local AWS: moto server at %s, account %s, %s\n", moto.URL(), d.sample.Account, emulator.Region)
	fmt.Fprintf(w, "Seeded: %d roles, %d task definitions (%s), topic %s with queue ecsguard-findings-inbox subscribed\n",
		len(d.sample.Roles), len(d.sample.TaskDefinitions), strings.Join(sortedKeys(d.sample.TaskDefinitions), ", "), d.sample.TopicARN)

	tmp, err := os.MkdirTemp("", "ecsguard-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	d.boot = map[string]string{}
	for _, fn := range []string{"onregister", "onrolechange"} {
		dir := filepath.Join(tmp, fn)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		if d.boot[fn], err = emulator.BuildBootstrap(ctx, filepath.Join(emulator.RepoRoot(), "functions", fn), dir); err != nil {
			return err
		}
	}
	if err := d.scan(ctx, tmp); err != nil {
		return err
	}
	if err := d.sweep(ctx); err != nil {
		return err
	}

	files, err := fs.Glob(eventstestdata.FS, "*.json")
	if err != nil {
		return err
	}
	// What EventBridge could deliver to onregister, and what it must
	// survive: every ECS event, and the malformed and foreign ones.
	var all, registers []string
	for _, f := range files {
		if !strings.HasPrefix(f, "iam-") {
			all = append(all, f)
		}
		if strings.HasPrefix(f, "ecs-registertaskdefinition-") {
			registers = append(registers, f)
		}
	}
	// Each pass is its own deployment, with its own event ledger: the
	// enforce pass sees the same events as new.
	if err := d.phase(ctx, "alert mode (MODE=alert): findings are alerted, nothing is changed", all, "MODE=alert", "IDEMPOTENCY_TABLE="+d.sample.LedgerTable); err != nil {
		return err
	}
	if err := d.exemptions(ctx); err != nil {
		return err
	}
	if err := d.dryRun(ctx, registers); err != nil {
		return err
	}
	enforceLedger, err := d.newLedger(ctx, "enforce")
	if err != nil {
		return err
	}
	// The last event is delivered twice, as EventBridge may: the second
	// delivery does nothing again.
	if err := d.phase(ctx, "enforce mode (MODE=enforce, ENFORCE_MIN_SEVERITY=HIGH, SECURITY_HUB=true): noncompliant revisions are deregistered, each once, findings imported", append(registers, registers[0]),
		"MODE=enforce", "ENFORCE_MIN_SEVERITY=HIGH", "SECURITY_HUB=true", "IDEMPOTENCY_TABLE="+enforceLedger); err != nil {
		return err
	}
	if err := d.roleChanges(ctx, []string{
		"iam-attachrolepolicy-admin-on-task-role.json",      // a task role: web-api:1
		"iam-putrolepolicy-events-role-passrole.json",       // ecsEventsRole itself
		"iam-attachrolepolicy-unrelated-role.json",          // nothing of ECS
		"iam-createpolicyversion-broadens-exec-policy.json", // a policy behind two execution roles' revisions
	}); err != nil {
		return err
	}
	if err := d.revisions(ctx); err != nil {
		return err
	}
	if err := d.enforceRoleChange(ctx); err != nil {
		return err
	}
	if err := d.securityHub(ctx); err != nil {
		return err
	}
	if err := d.organization(ctx); err != nil {
		return err
	}
	if err := d.views(); err != nil {
		return err
	}
	b, _ := json.Marshal(d.summary)
	fmt.Fprintf(w, "%s\n", b)
	return nil
}

// scan runs the ecsguard CLI, built for this machine, as a user would
// before deploying the guardrail: ecsguard scan of the sample account, with
// credentials the emulator maps to it. It prints the summary lines.
func (d *demo) scan(ctx context.Context, tmp string) error {
	bin := filepath.Join(tmp, "ecsguard")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/ecsguard")
	build.Dir = emulator.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build ecsguard: %w\n%s", err, out)
	}
	env, err := emulator.FunctionEnv(ctx, d.moto.URL(), d.sample.Account, "auditor")
	if err != nil {
		return err
	}
	args := []string{"scan", "--endpoint-url", d.moto.URL()}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return fmt.Errorf("ecsguard scan: %w\n%s", err, stderr.String())
	}
	fmt.Fprintf(d.w, "\n== ecsguard %s: where the account stands before the guardrail\n\n", strings.Join(args, " "))
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "task definition ") || strings.HasPrefix(l, "role ") {
			fmt.Fprintf(d.w, "  %s\n", l)
		}
	}
	fmt.Fprintf(d.w, "  %s\n  %s\n", lines[len(lines)-2], lines[len(lines)-1])
	fmt.Fprintf(d.w, "  %s (exit status %d)\n", strings.TrimSpace(stderr.String()), cmd.ProcessState.ExitCode())
	return nil
}

// start runs a function's bootstrap under the emulator with the sample
// account's settings and env.
func (d *demo) start(ctx context.Context, fn string, env ...string) (*emulator.RIE, error) {
	fenv, err := emulator.FunctionEnv(ctx, d.proxy.URL(), d.sample.Account, "ecsguard-"+fn)
	if err != nil {
		return nil, err
	}
	fenv = append(fenv, "TOPIC_ARN="+d.sample.TopicARN, "INDEX_TABLE="+d.sample.IndexTable,
		"ECSGUARD_ROLE_ARNS="+d.sample.Roles["ecsguard-onregister"]+","+d.sample.Roles["ecsguard-onrolechange"])
	return emulator.StartRIE(ctx, d.rie, d.boot[fn], append(fenv, env...))
}

func (d *demo) stop(fn *emulator.RIE) {
	fn.Close()
	if d.logs {
		fmt.Fprintf(d.w, "\nfunction log:\n%s\n", fn.Logs())
	}
}

// sweep fills the role index, as the scheduled rule does every day.
func (d *demo) sweep(ctx context.Context) error {
	fn, err := d.start(ctx, "onrolechange")
	if err != nil {
		return err
	}
	defer d.stop(fn)
	resp, err := fn.Invoke(ctx, []byte(`{"version":"0","id":"sweep","detail-type":"Scheduled Event","source":"aws.events","account":"`+
		d.sample.Account+`","region":"us-east-1","resources":[],"detail":{}}`))
	if err != nil {
		return fmt.Errorf("sweep: %w\n%s", err, fn.Logs())
	}
	var o guard.SweepOutcome
	if err := json.Unmarshal(resp, &o); err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\nonrolechange, scheduled sweep: %s, %d revisions in the role index %s (%d AWS calls)\n",
		o.Result, o.Recorded, d.sample.IndexTable, o.Calls)
	return nil
}

// phase runs onregister with env and sends it each event, then reads back
// the alerts.
func (d *demo) phase(ctx context.Context, title string, events []string, env ...string) error {
	fmt.Fprintf(d.w, "\n== onregister, %s\n\n", title)
	fn, err := d.start(ctx, "onregister", env...)
	if err != nil {
		return err
	}
	defer d.stop(fn)

	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tRESULT\tFINDINGS\tRULES\tALERT\tACTION\tAWS CALLS")
	for _, name := range events {
		b, err := fs.ReadFile(eventstestdata.FS, name)
		if err != nil {
			return err
		}
		resp, err := fn.Invoke(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, fn.Logs())
		}
		row, err := d.registered(resp)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(tw, "%s\t%s\n", strings.TrimSuffix(name, ".json"), row)
	}
	tw.Flush()
	return d.readAlerts(ctx)
}

// registered reads onregister's outcome, counts it in the summary and
// returns its row: result, findings, rules, alert, action, AWS calls.
func (d *demo) registered(resp []byte) (string, error) {
	var o guard.Outcome
	if err := json.Unmarshal(resp, &o); err != nil {
		return "", fmt.Errorf("response %s: %w", resp, err)
	}
	d.summary.Events++
	d.summary.Findings += o.Findings
	if o.Action.Result.Kind == rules.Deregistered {
		d.summary.Deregistered++
	}
	findings := "-"
	if o.Result == guard.ResultEvaluated {
		findings = fmt.Sprint(o.Findings)
		if o.Highest != "" {
			findings += " (" + o.Highest + ")"
		}
		if o.Suppressed > 0 {
			findings += fmt.Sprintf(", %d suppressed", o.Suppressed)
		}
		if !o.Complete {
			findings += " incomplete"
		}
	}
	result := o.Result
	if o.Result != guard.ResultEvaluated {
		result += ": " + shortReason(o.Reason)
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d", result, findings,
		orDash(strings.Join(o.Rules, ",")), yesNo(o.Alerted), orDash(o.Action.Result.String()), o.Calls), nil
}

// roleChanges makes each IAM change in the account, as its event records,
// and sends the event to onrolechange (alert mode), then reads back the
// alerts.
func (d *demo) roleChanges(ctx context.Context, events []string) error {
	fmt.Fprintf(d.w, "\n== onrolechange, alert mode: each IAM change is made in the account, then its event is delivered\n\n")
	fn, err := d.start(ctx, "onrolechange", "MODE=alert", "IDEMPOTENCY_TABLE="+d.sample.LedgerTable)
	if err != nil {
		return err
	}
	defer d.stop(fn)
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tRESULT\tROLES\tRE-EVALUATED\tFINDINGS\tNEW\tALERT\tAWS CALLS")
	for _, name := range events {
		b, err := fs.ReadFile(eventstestdata.FS, name)
		if err != nil {
			return err
		}
		if err := emulator.Apply(ctx, d.cfg, b); err != nil {
			return err
		}
		resp, err := fn.Invoke(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, fn.Logs())
		}
		var o guard.ChangeOutcome
		if err := json.Unmarshal(resp, &o); err != nil {
			return fmt.Errorf("%s: response %s: %w", name, resp, err)
		}
		d.summary.Events++
		d.summary.RoleChanges++
		d.summary.Findings += o.Findings
		var subjects, fresh []string
		for _, s := range o.Subjects {
			subjects = append(subjects, s.ARN[strings.LastIndexByte(s.ARN, '/')+1:])
			fresh = append(fresh, s.New...)
			if s.Action.Result.Kind == rules.Deregistered {
				d.summary.Deregistered++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%d\n", strings.TrimSuffix(name, ".json"), o.Result,
			orDash(strings.Join(o.Roles, ",")), orDash(strings.Join(subjects, ",")), o.Findings,
			orDash(strings.Join(slices.Compact(slices.Sorted(slices.Values(fresh))), ",")), yesNo(o.Alerted), o.Calls)
	}
	tw.Flush()
	return d.readAlerts(ctx)
}

// readAlerts drains the queue subscribed to the topic and prints each
// alert: the SNS subject, its attributes and the report's findings.
func (d *demo) readAlerts(ctx context.Context) error {
	fmt.Fprintf(d.w, "\nAlerts read back from the queue subscribed to %s:\n", d.sample.TopicARN)
	q := sqs.NewFromConfig(d.cfg)
	n := 0
	for {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(d.sample.QueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			return err
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var env struct {
				Subject           string
				Message           string
				MessageAttributes map[string]struct{ Value string }
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				return fmt.Errorf("queue message is not an SNS notification: %w", err)
			}
			// onregister sends one finding report; onrolechange one
			// document for the change, with a report per subject.
			var doc alert.ChangeDocument
			if err := json.Unmarshal([]byte(env.Message), &doc); err != nil || len(doc.Reports) == 0 {
				var r rules.Report
				if err := json.Unmarshal([]byte(env.Message), &r); err != nil {
					return fmt.Errorf("alert %q is neither a finding report nor a change: %w", env.Subject, err)
				}
				doc = alert.ChangeDocument{Reports: []rules.Report{r}}
			}
			n++
			fmt.Fprintf(d.w, "\n  %s\n", env.Subject)
			var attrs []string
			for _, k := range sortedKeys(env.MessageAttributes) {
				attrs = append(attrs, k+"="+env.MessageAttributes[k].Value)
			}
			fmt.Fprintf(d.w, "    attributes: %s\n", strings.Join(attrs, " "))
			for _, r := range doc.Reports {
				if len(doc.Reports) > 1 || doc.Change.EventName != "" {
					fmt.Fprintf(d.w, "    %s\n", r.Subject.ARN)
				}
				for _, u := range doc.UsedBy[r.Subject.ARN] {
					fmt.Fprintf(d.w, "    used by %s %s\n", u.Kind, u.Resource)
				}
				for _, f := range r.Findings {
					if f.Suppressed {
						continue
					}
					mark := ""
					if slices.Contains(doc.NewFindings[r.Subject.ARN], f.Rule) {
						mark = " (new)"
					}
					fmt.Fprintf(d.w, "    %-8s %s %s%s\n", f.Severity, f.Rule, f.Title, mark)
					for _, e := range f.Evidence {
						if strings.HasPrefix(e.Detail, "exemption ignored") {
							fmt.Fprintf(d.w, "             %s\n", e.Detail)
						}
					}
				}
				if !r.Complete {
					fmt.Fprintf(d.w, "    incomplete: %s\n", strings.Join(r.Errors, "; "))
				}
				if r.Action.Type != rules.ActionNone {
					fmt.Fprintf(d.w, "    action: %s: %s\n", r.Action.Type, r.Action.Result)
				}
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(d.sample.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return err
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(d.w, "  (none)")
	}
	d.summary.Alerts += n
	return nil
}

// revisions prints the status of each sample revision after enforcement.
func (d *demo) revisions(ctx context.Context) error {
	fmt.Fprintf(d.w, "\nTask definitions after enforce mode:\n")
	ec := ecs.NewFromConfig(d.cfg)
	for _, family := range sortedKeys(d.sample.TaskDefinitions) {
		out, err := ec.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(d.sample.TaskDefinitions[family])})
		if err != nil {
			return err
		}
		status := string(out.TaskDefinition.Status)
		note := ""
		if status == "INACTIVE" {
			note = "  deregistered by ecsguard"
		}
		fmt.Fprintf(d.w, "  %-16s %s%s\n", fmt.Sprintf("%s:%d", family, out.TaskDefinition.Revision), status, note)
	}
	fmt.Fprintln(d.w)
	return nil
}

func shortReason(r string) string {
	// "event <id>: " says which event; the table already does.
	if _, rest, ok := strings.Cut(r, ": "); ok && strings.HasPrefix(r, "event ") {
		r = rest
	}
	if len(r) > 50 {
		r = r[:47] + "..."
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "sent"
	}
	return "-"
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
