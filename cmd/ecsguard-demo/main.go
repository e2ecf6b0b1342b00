// Command ecsguard-demo runs ecsguard end to end on this machine, with no
// AWS account: it starts the local AWS emulator, seeds the sample account of
// events-testdata, runs the onregister function as a real Lambda process
// under the Lambda Runtime Interface Emulator on the corpus events, first
// in alert mode and then in enforce mode, and prints each outcome, the
// alerts read back from a queue subscribed to the findings topic, and what
// was deregistered. Its last line is a JSON summary. `make demo` runs it
// after installing the emulator.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
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
	w       io.Writer
	rie     string
	moto    *emulator.Moto
	sample  emulator.Sample
	cfg     aws.Config
	boot    string
	logs    bool
	summary Summary
}

func run(ctx context.Context, w io.Writer, venv, rie string, logs bool) error {
	moto, err := emulator.StartMoto(ctx, venv)
	if err != nil {
		return err
	}
	defer moto.Close()
	d := &demo{w: w, rie: rie, moto: moto, logs: logs, cfg: moto.Config(ctx, emulator.SampleAccount)}
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
	if d.boot, err = emulator.BuildBootstrap(ctx, filepath.Join(emulator.RepoRoot(), "functions", "onregister"), tmp); err != nil {
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
	if err := d.phase(ctx, "alert mode (MODE=alert): findings are alerted, nothing is changed", all, "MODE=alert"); err != nil {
		return err
	}
	if err := d.phase(ctx, "enforce mode (MODE=enforce, ENFORCE_MIN_SEVERITY=HIGH): noncompliant revisions are deregistered", registers,
		"MODE=enforce", "ENFORCE_MIN_SEVERITY=HIGH"); err != nil {
		return err
	}
	if err := d.revisions(ctx); err != nil {
		return err
	}
	b, _ := json.Marshal(d.summary)
	fmt.Fprintf(w, "%s\n", b)
	return nil
}

// phase runs the onregister bootstrap under the emulator with env and sends
// it each event, then reads back the alerts.
func (d *demo) phase(ctx context.Context, title string, events []string, env ...string) error {
	fmt.Fprintf(d.w, "\n== onregister, %s\n\n", title)
	fenv, err := emulator.FunctionEnv(ctx, d.moto.URL(), d.sample.Account, "ecsguard-onregister")
	if err != nil {
		return err
	}
	fenv = append(fenv, "TOPIC_ARN="+d.sample.TopicARN, "ECSGUARD_ROLE_ARNS="+d.sample.Roles["ecsguard-onregister"])
	fn, err := emulator.StartRIE(ctx, d.rie, d.boot, append(fenv, env...))
	if err != nil {
		return err
	}
	defer func() {
		fn.Close()
		if d.logs {
			fmt.Fprintf(d.w, "\nfunction log:\n%s\n", fn.Logs())
		}
	}()

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
		var o guard.Outcome
		if err := json.Unmarshal(resp, &o); err != nil {
			return fmt.Errorf("%s: response %s: %w", name, resp, err)
		}
		d.summary.Events++
		d.summary.Findings += o.Findings
		if o.Action.Result == "deregistered" {
			d.summary.Deregistered++
		}
		findings := "-"
		if o.Result == guard.ResultEvaluated {
			findings = fmt.Sprint(o.Findings)
			if o.Highest != "" {
				findings += " (" + o.Highest + ")"
			}
			if !o.Complete {
				findings += " incomplete"
			}
		}
		action := o.Action.Result
		if action == "" {
			action = "-"
		}
		result := o.Result
		if o.Result != guard.ResultEvaluated {
			result += ": " + shortReason(o.Reason)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", strings.TrimSuffix(name, ".json"), result, findings,
			orDash(strings.Join(o.Rules, ",")), yesNo(o.Alerted), action, o.Calls)
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
			var r rules.Report
			if err := json.Unmarshal([]byte(env.Message), &r); err != nil {
				return fmt.Errorf("alert %q is not a finding report: %w", env.Subject, err)
			}
			n++
			fmt.Fprintf(d.w, "\n  %s\n", env.Subject)
			var attrs []string
			for _, k := range sortedKeys(env.MessageAttributes) {
				attrs = append(attrs, k+"="+env.MessageAttributes[k].Value)
			}
			fmt.Fprintf(d.w, "    attributes: %s\n", strings.Join(attrs, " "))
			for _, f := range r.Findings {
				if f.Suppressed {
					continue
				}
				fmt.Fprintf(d.w, "    %-8s %s %s\n", f.Severity, f.Rule, f.Title)
			}
			if !r.Complete {
				fmt.Fprintf(d.w, "    incomplete: %s\n", strings.Join(r.Errors, "; "))
			}
			if r.Action.Type != "none" {
				fmt.Fprintf(d.w, "    action: %s: %s\n", r.Action.Type, r.Action.Result)
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
