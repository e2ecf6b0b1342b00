package sarif_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/sarif"
	"github.com/ecsguard/ecsguard/shared/sarif/sariftest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	tdARN   = "arn:aws:ecs:us-east-1:111122223333:task-definition/billing:13"
	roleARN = "arn:aws:iam::111122223333:role/billing-app"
	gone    = "arn:aws:iam::111122223333:role/reports-task"
	tdGone  = "arn:aws:ecs:us-east-1:111122223333:task-definition/reports:3"
	events  = "arn:aws:iam::111122223333:role/ecsEventsRole"
)

// sample is one report of each kind the log must show: an exempted
// finding and an open one on a task definition, an incomplete report, and
// a role whose findings range from CRITICAL to INFORMATIONAL.
func sample() []rules.Report {
	return []rules.Report{
		{
			Subject: rules.Subject{Type: rules.SubjectTaskDefinition, ARN: tdARN}, Complete: true,
			Findings: []rules.Finding{
				{Rule: "TD-001", Severity: rules.High, Title: "task role and execution role are the same role", Resource: roleARN,
					Evidence:   []rules.Evidence{{Detail: "taskRoleArn and executionRoleArn are both " + roleARN}},
					Suppressed: true, SuppressedReason: "split roles planned in PLAT-1234"},
				{Rule: "TD-004", Severity: rules.Medium, Title: "execution role can read every secret, parameter or key", Resource: roleARN,
					Evidence: []rules.Evidence{{Detail: "secretsmanager:GetSecretValue on *"}, {Detail: "ssm:GetParameters on *"}}},
			},
		},
		{
			Subject: rules.Subject{Type: rules.SubjectTaskDefinition, ARN: tdGone}, Complete: false,
			Errors: []string{gone + ": role ARN not found in IAM export"},
			Findings: []rules.Finding{
				{Rule: rules.IncompleteRule, Severity: rules.High, Title: "evaluation incomplete: a role or policy could not be read", Resource: tdGone,
					Evidence: []rules.Evidence{{Detail: gone + ": role ARN not found in IAM export"}}},
			},
		},
		{
			Subject: rules.Subject{Type: rules.SubjectRole, ARN: events}, Complete: true,
			Findings: []rules.Finding{
				{Rule: "SR-001", Severity: rules.Critical, Title: "trust policy admits anyone", Resource: events, Evidence: []rules.Evidence{{Detail: "Principal \"*\""}}},
				{Rule: rules.UnknownExemptionRule, Severity: rules.Informational, Title: "exemption tag names unknown rules", Resource: events, Evidence: []rules.Evidence{{Detail: "TD-08 is no rule"}}},
			},
		},
	}
}

// locate knows the task definition file and the IAM export's billing-app
// entry; the other ARNs are in no file.
func locate(arn string) (sarif.Location, bool) {
	l, ok := map[string]sarif.Location{
		tdARN:   {URI: "deploy/td-billing.json", Line: 3, Column: 5},
		roleARN: {URI: "deploy/iam.json", Line: 40, Column: 7},
		tdGone:  {URI: "deploy/td-reports.json"},
	}[arn]
	return l, ok
}

func encode(t *testing.T, reports []rules.Report, opt sarif.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := sarif.Encode(&b, reports, opt); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.Validate(b.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return b.Bytes()
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opt  sarif.Options
	}{
		{"located", sarif.Options{ToolVersion: "v1.2.3", Locate: locate, Notes: []string{"the export is truncated"}}},
		{"no-files", sarif.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := encode(t, sample(), tc.opt)
			path := filepath.Join("testdata", tc.name+".sarif.golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("SARIF log differs from %s (go test -update rewrites it):\n%s", path, got)
			}
		})
	}
}

// sarifLog is the part of the log the assertions read.
type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID               string                    `json:"id"`
					ShortDescription struct{ Text string }     `json:"shortDescription"`
					HelpURI          string                    `json:"helpUri"`
					Help             struct{ Markdown string } `json:"help"`
					Properties       map[string]any            `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			Notifications []struct {
				Level   string                `json:"level"`
				Message struct{ Text string } `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID       string                `json:"ruleId"`
			RuleIndex    int                   `json:"ruleIndex"`
			Level        string                `json:"level"`
			Message      struct{ Text string } `json:"message"`
			Suppressions []struct {
				Kind, Justification string
			} `json:"suppressions"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI string }                  `json:"artifactLocation"`
					Region           *struct{ StartLine, StartColumn int } `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct{ FullyQualifiedName string } `json:"logicalLocations"`
			} `json:"locations"`
			RelatedLocations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI string } `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"relatedLocations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

func decode(t *testing.T, b []byte) sarifLog {
	t.Helper()
	var l sarifLog
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(l.Runs))
	}
	return l
}

func TestEncodeRules(t *testing.T) {
	t.Parallel()
	run := decode(t, encode(t, nil, sarif.Options{})).Runs[0]
	catalog := rules.Catalog()
	if len(run.Tool.Driver.Rules) != len(catalog) {
		t.Fatalf("%d rules, want the %d of the catalog", len(run.Tool.Driver.Rules), len(catalog))
	}
	want := map[rules.Severity]any{rules.Critical: "9.5", rules.High: "8.0", rules.Medium: "5.5", rules.Low: "2.0", rules.Informational: nil}
	for i, r := range catalog {
		d := run.Tool.Driver.Rules[i]
		if d.ID != r.ID || d.ShortDescription.Text != r.Title || d.Help.Markdown != r.Markdown() {
			t.Errorf("rule %d = %s %q, want %s %q with the Markdown of docs/rules.md", i, d.ID, d.ShortDescription.Text, r.ID, r.Title)
		}
		if d.HelpURI != sarif.RulesURL+"#"+strings.ToLower(r.ID) {
			t.Errorf("%s: helpUri %q", r.ID, d.HelpURI)
		}
		if got := d.Properties["security-severity"]; got != want[r.Severity] {
			t.Errorf("%s (%s): security-severity %v, want %v", r.ID, r.Severity, got, want[r.Severity])
		}
	}
	if len(run.Results) != 0 {
		t.Errorf("%d results of no report", len(run.Results))
	}
}

func TestEncodeResults(t *testing.T) {
	t.Parallel()
	run := decode(t, encode(t, sample(), sarif.Options{Locate: locate, Notes: []string{"the export is truncated"}})).Runs[0]
	type want struct {
		rule, level, uri string
		line             int
		related          string
		suppressed       string
		message          []string
	}
	wants := []want{
		{rule: "TD-001", level: "error", uri: "deploy/iam.json", line: 40, related: "deploy/td-billing.json", suppressed: "split roles planned in PLAT-1234"},
		{rule: "TD-004", level: "warning", uri: "deploy/iam.json", line: 40, related: "deploy/td-billing.json",
			message: []string{"execution role can read every secret, parameter or key\n", "- secretsmanager:GetSecretValue on *\n", "- ssm:GetParameters on *"}},
		{rule: rules.IncompleteRule, level: "error", uri: "deploy/td-reports.json", message: []string{gone + ": role ARN not found"}},
		{rule: "SR-001", level: "error"},
		{rule: rules.UnknownExemptionRule, level: "note"},
	}
	if len(run.Results) != len(wants) {
		t.Fatalf("%d results, want %d", len(run.Results), len(wants))
	}
	catalog := rules.Catalog()
	seen := map[string]bool{}
	for i, w := range wants {
		r := run.Results[i]
		if r.RuleID != w.rule || r.Level != w.level || catalog[r.RuleIndex].ID != w.rule {
			t.Errorf("result %d: %s (index %d) %s, want %s %s", i, r.RuleID, r.RuleIndex, r.Level, w.rule, w.level)
		}
		loc := r.Locations[0]
		switch {
		case w.uri == "" && loc.PhysicalLocation != nil:
			t.Errorf("result %d: located in %+v, want no file", i, loc.PhysicalLocation)
		case w.uri != "" && (loc.PhysicalLocation == nil || loc.PhysicalLocation.ArtifactLocation.URI != w.uri):
			t.Errorf("result %d: location %+v, want %s", i, loc.PhysicalLocation, w.uri)
		case w.line > 0 && (loc.PhysicalLocation.Region == nil || loc.PhysicalLocation.Region.StartLine != w.line):
			t.Errorf("result %d: region %+v, want line %d", i, loc.PhysicalLocation.Region, w.line)
		case w.uri != "" && w.line == 0 && loc.PhysicalLocation.Region != nil:
			t.Errorf("result %d: region %+v for a file-only location", i, loc.PhysicalLocation.Region)
		}
		if len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].FullyQualifiedName == "" {
			t.Errorf("result %d: logical locations %+v, want the ARN", i, loc.LogicalLocations)
		}
		if got := len(r.RelatedLocations); (w.related == "") != (got == 0) || got > 0 && r.RelatedLocations[0].PhysicalLocation.ArtifactLocation.URI != w.related {
			t.Errorf("result %d: related locations %+v, want %q", i, r.RelatedLocations, w.related)
		}
		switch {
		case w.suppressed == "" && len(r.Suppressions) > 0:
			t.Errorf("result %d: suppressed %+v", i, r.Suppressions)
		case w.suppressed != "" && (len(r.Suppressions) != 1 || r.Suppressions[0].Kind != "external" || r.Suppressions[0].Justification != w.suppressed):
			t.Errorf("result %d: suppressions %+v, want external %q", i, r.Suppressions, w.suppressed)
		}
		for _, m := range w.message {
			if !strings.Contains(r.Message.Text, m) {
				t.Errorf("result %d: message %q lacks %q", i, r.Message.Text, m)
			}
		}
		fp := r.PartialFingerprints["ecsguard/v1"]
		if len(fp) != 32 || seen[fp] {
			t.Errorf("result %d: fingerprint %q, want 32 hex digits, distinct", i, fp)
		}
		seen[fp] = true
	}

	notes := run.Invocations[0].Notifications
	if len(notes) != 2 || notes[0].Level != "warning" || notes[0].Message.Text != "the export is truncated" ||
		notes[1].Level != "error" || !strings.Contains(notes[1].Message.Text, tdGone+" is incomplete: "+gone) {
		t.Errorf("notifications = %+v, want the note and the incomplete report", notes)
	}
}

// A new revision of a task definition with the same finding is the same
// alert: the fingerprint names the family, not the revision.
func TestFingerprintAcrossRevisions(t *testing.T) {
	t.Parallel()
	fingerprints := func(arn string) string {
		r := sample()[0]
		r.Subject.ARN = arn
		return decode(t, encode(t, []rules.Report{r}, sarif.Options{})).Runs[0].Results[1].PartialFingerprints["ecsguard/v1"]
	}
	a, b := fingerprints(tdARN), fingerprints(strings.TrimSuffix(tdARN, ":13")+":14")
	other := fingerprints("arn:aws:ecs:us-east-1:111122223333:task-definition/billing-v2:13")
	if a != b || a == other {
		t.Errorf("fingerprints %s (rev 13), %s (rev 14), %s (other family): want the revisions equal, the family apart", a, b, other)
	}
}
