package rules_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// documentedCase is one IAM role setup that AWS documents for ECS, as stored
// in testdata/documented/*.json. Policy documents are copied statement by
// statement from the pages in Source; only documented placeholders are
// filled in (listed in Placeholders).
type documentedCase struct {
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Source       []string          `json:"source"`
	Kind         string            `json:"kind"` // task-role, execution-role or secondary-role
	Account      string            `json:"account"`
	Region       string            `json:"region"`
	Placeholders map[string]string `json:"placeholders,omitempty"`
	Notes        []string          `json:"notes,omitempty"`
	// TaskDefinition is ECS API JSON (DescribeTaskDefinition's
	// taskDefinition); fields the rules do not read are kept for fidelity.
	TaskDefinition *rules.TaskDefinition `json:"taskDefinition,omitempty"`
	Roles          []documentedRole      `json:"roles"`
	// MaxSeverity is the highest severity a finding may have; LOW if empty.
	MaxSeverity string `json:"maxSeverity"`
}

type documentedRole struct {
	ARN         string             `json:"arn"`
	Name        string             `json:"name"`
	Path        string             `json:"path"`
	TrustSource string             `json:"trustSource"`
	Trust       json.RawMessage    `json:"trust"`
	Policies    []documentedPolicy `json:"policies"`
	Uses        []rules.Use        `json:"uses,omitempty"`
}

// documentedPolicy is an attached managed policy when ARN is set, else an
// inline policy called Name.
type documentedPolicy struct {
	ARN      string          `json:"arn,omitempty"`
	Name     string          `json:"name,omitempty"`
	Source   string          `json:"source"`
	Document json.RawMessage `json:"document"`
}

const documentedDir = "testdata/documented"

// TestDocumentedSetups: the role setups AWS documents for ECS (ECS Exec,
// X-Ray daemon, CloudWatch agent, App Mesh Envoy, FireLens, the managed
// execution, events and autoscale policies) never produce a finding above
// LOW (SPEC §3).
func TestDocumentedSetups(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(documentedDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no documented setups in %s", documentedDir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := loadDocumented(t, file)
			if c.Name != name {
				t.Errorf("name %q, want the file name %q", c.Name, name)
			}
			checkDocumentedSources(t, c)
			maxSev := rules.Low
			if c.MaxSeverity != "" {
				s, err := rules.ParseSeverity(c.MaxSeverity)
				if err != nil {
					t.Fatalf("maxSeverity: %v", err)
				}
				maxSev = s
			}
			f := documentedFacts(t, c)
			r := rules.Evaluate(f)
			if !r.Complete {
				t.Errorf("incomplete evaluation: %v", r.Errors)
			}
			if want := documentedSubject(c); r.Subject.ARN != want {
				t.Errorf("subject %s, want %s", r.Subject.ARN, want)
			}
			for _, fd := range r.Findings {
				if fd.Severity <= maxSev {
					t.Logf("allowed: %s %v on %s: %s", fd.Rule, fd.Severity, fd.Resource, evidenceSummary(fd))
					continue
				}
				t.Errorf("%s %v (above %v) on %s: %s\n%s", fd.Rule, fd.Severity, maxSev, fd.Resource, fd.Title, evidenceSummary(fd))
			}
		})
	}
}

func loadDocumented(t *testing.T, file string) documentedCase {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c documentedCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// checkDocumentedSources: every case cites at least one AWS documentation
// page, and every policy and trust document says where it comes from.
func checkDocumentedSources(t *testing.T, c documentedCase) {
	t.Helper()
	if !slices.ContainsFunc(c.Source, func(u string) bool { return strings.HasPrefix(u, "https://docs.aws.amazon.com/") }) {
		t.Errorf("no https://docs.aws.amazon.com/ source among %q", c.Source)
	}
	for _, u := range c.Source {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("source %q is not an https URL", u)
		}
	}
	for _, r := range c.Roles {
		if !strings.HasPrefix(r.TrustSource, "https://") {
			t.Errorf("role %s: trustSource %q is not an https URL", r.ARN, r.TrustSource)
		}
		for _, p := range r.Policies {
			if !strings.HasPrefix(p.Source, "https://") {
				t.Errorf("role %s policy %s%s: source %q is not an https URL", r.ARN, p.ARN, p.Name, p.Source)
			}
		}
	}
}

// documentedFacts builds the facts of one case: a task definition with its
// task and execution roles, or a secondary role alone.
func documentedFacts(t *testing.T, c documentedCase) rules.Facts {
	t.Helper()
	f := rules.Facts{Account: c.Account, Region: c.Region, Roles: map[string]*rules.Role{}}
	var roles []*rules.Role
	for _, dr := range c.Roles {
		r := documentedRoleFacts(t, dr)
		if f.Roles[r.ARN] != nil {
			t.Fatalf("role %s listed twice", r.ARN)
		}
		f.Roles[r.ARN] = r
		roles = append(roles, r)
	}
	switch c.Kind {
	case "task-role", "execution-role":
		td := c.TaskDefinition
		if td == nil {
			t.Fatalf("kind %s without a taskDefinition", c.Kind)
		}
		if td.TaskRoleARN == "" || td.ExecutionRoleARN == "" || td.TaskRoleARN == td.ExecutionRoleARN {
			t.Fatalf("task role %q and execution role %q must be set and differ", td.TaskRoleARN, td.ExecutionRoleARN)
		}
		for _, arn := range []string{td.TaskRoleARN, td.ExecutionRoleARN} {
			if f.Roles[arn] == nil {
				t.Fatalf("role %s of the task definition is not in roles", arn)
			}
		}
		td.Tags = map[string]string{}
		f.TaskDefinition = td
	case "secondary-role":
		if c.TaskDefinition != nil || len(roles) != 1 {
			t.Fatalf("a secondary-role case has one role and no task definition")
		}
		f.Role = roles[0]
		f.Roles = nil
	default:
		t.Fatalf("unknown kind %q", c.Kind)
	}
	return f
}

func documentedRoleFacts(t *testing.T, dr documentedRole) *rules.Role {
	t.Helper()
	r := &rules.Role{ARN: dr.ARN, Name: dr.Name, Path: dr.Path, Tags: map[string]string{}, Uses: dr.Uses}
	if dr.ARN == "" || dr.Name == "" || !strings.HasSuffix(dr.ARN, ":role"+dr.Path+dr.Name) {
		t.Fatalf("role arn %q, path %q and name %q disagree", dr.ARN, dr.Path, dr.Name)
	}
	r.Trust = parseDocumented(t, dr.ARN+" trust", dr.Trust)
	for _, p := range dr.Policies {
		doc := parseDocumented(t, dr.ARN+" policy "+p.ARN+p.Name, p.Document)
		switch {
		case p.ARN != "" && p.Name == "":
			r.Policies = append(r.Policies, iampolicy.Policy{Name: p.ARN, Document: doc})
			r.Attached = append(r.Attached, p.ARN)
		case p.Name != "" && p.ARN == "":
			r.Policies = append(r.Policies, iampolicy.Policy{Name: "inline:" + p.Name, Document: doc})
		default:
			t.Fatalf("role %s: a policy has either an arn (managed) or a name (inline): %+v", dr.ARN, p)
		}
	}
	return r
}

func parseDocumented(t *testing.T, what string, raw json.RawMessage) *iampolicy.Document {
	t.Helper()
	if len(raw) == 0 {
		t.Fatalf("%s: no document", what)
	}
	d, err := iampolicy.Parse(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return d
}

func documentedSubject(c documentedCase) string {
	if c.TaskDefinition != nil {
		return c.TaskDefinition.ARN
	}
	if len(c.Roles) > 0 {
		return c.Roles[0].ARN
	}
	return ""
}

// evidenceSummary is a finding's evidence, one line each.
func evidenceSummary(fd rules.Finding) string {
	var b strings.Builder
	for _, e := range fd.Evidence {
		b.WriteString("  - " + e.Detail)
		if e.Policy != "" {
			b.WriteString(" [policy " + e.Policy + "]")
		}
		if e.Action != "" {
			b.WriteString(" [action " + e.Action + "]")
		}
		if len(e.Statement) > 0 {
			st := string(e.Statement)
			var c bytes.Buffer
			if json.Compact(&c, e.Statement) == nil {
				st = c.String()
			}
			b.WriteString(" [statement " + st + "]")
		}
		if e.Conditional {
			b.WriteString(" [conditional]")
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
