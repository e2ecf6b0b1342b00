package sarif

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/ecsguard/ecsguard/shared/rules"
)

const (
	schemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// RulesURL is docs/rules.md, generated from the same catalog; each
	// rule's helpUri is its section there.
	RulesURL       = "https://github.com/ecsguard/ecsguard/blob/main/docs/rules.md"
	informationURI = "https://github.com/ecsguard/ecsguard"
	fingerprintKey = "ecsguard/v1"
)

// Options are what the log says beyond the reports.
type Options struct {
	// ToolVersion is ecsguard's version, empty when unknown.
	ToolVersion string
	// Locate says where an ARN is defined in the input files; nil when
	// the input is no file (a live account).
	Locate func(arn string) (Location, bool)
	// Notes are warnings about the input as a whole ("the export is
	// truncated"), written as tool notifications.
	Notes []string
}

// Encode writes the SARIF 2.1.0 log of reports to w: one rule per entry
// of the catalog, one result per finding (exempted ones with an external
// suppression, as they stay in the report), and a tool notification per
// incomplete report beside its ECSG-001 result.
func Encode(w io.Writer, reports []rules.Report, opt Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(build(reports, opt)); err != nil {
		return fmt.Errorf("encoding the SARIF log: %w", err)
	}
	return nil
}

func build(reports []rules.Report, opt Options) log {
	catalog := rules.Catalog()
	index := make(map[string]int, len(catalog))
	descriptors := make([]descriptor, len(catalog))
	for i, r := range catalog {
		index[r.ID] = i
		descriptors[i] = describe(r)
	}
	b := builder{opt: opt, index: index}
	inv := invocation{ExecutionSuccessful: true}
	for _, n := range opt.Notes {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, notification{Level: "warning", Message: text{n}})
	}
	results := []result{}
	for _, r := range reports {
		if !r.Complete {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, b.incomplete(r))
		}
		for _, f := range r.Findings {
			results = append(results, b.result(r, f))
		}
	}
	return log{
		Schema:  schemaURI,
		Version: "2.1.0",
		Runs: []run{{
			Tool:        tool{Driver: driver{Name: "ecsguard", Version: opt.ToolVersion, InformationURI: informationURI, Rules: descriptors}},
			Invocations: []invocation{inv},
			Results:     results,
			ColumnKind:  "unicodeCodePoints",
		}},
	}
}

// describe is a rule's reportingDescriptor, in the words of docs/rules.md.
func describe(r rules.Rule) descriptor {
	help := r.Why + "\n\nRemediation. " + r.Remediation
	if r.Conditions != "" {
		help += "\n\nConditions. " + r.Conditions
	}
	return descriptor{
		ID:                   r.ID,
		ShortDescription:     text{r.Title},
		FullDescription:      text{r.Why},
		Help:                 markdown{Text: help, Markdown: r.Markdown()},
		HelpURI:              RulesURL + "#" + r.Anchor(),
		DefaultConfiguration: configuration{Level: level(r.Severity)},
		Properties:           ruleProps{Tags: []string{"security"}, SecuritySeverity: securitySeverity(r.Severity)},
	}
}

// level is the SARIF level of a severity: error for what should block,
// warning for MEDIUM, note below.
func level(s rules.Severity) string {
	switch {
	case s >= rules.High:
		return "error"
	case s == rules.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity scores a severity within GitHub's bands: over 9.0
// critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9 low (the
// reportingDescriptor object in
// https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
// INFORMATIONAL has no band: the rule then shows by its level, a note.
func securitySeverity(s rules.Severity) string {
	switch s {
	case rules.Critical:
		return "9.5"
	case rules.High:
		return "8.0"
	case rules.Medium:
		return "5.5"
	case rules.Low:
		return "2.0"
	}
	return ""
}

type builder struct {
	opt   Options
	index map[string]int
}

func (b builder) result(r rules.Report, f rules.Finding) result {
	msg := f.Title
	for _, e := range f.Evidence {
		if d := strings.TrimSpace(e.Detail); d != "" {
			msg += "\n- " + d
		}
	}
	res := result{
		RuleID:              f.Rule,
		Level:               level(f.Severity),
		Message:             text{msg},
		PartialFingerprints: map[string]string{fingerprintKey: fingerprint(r.Subject, f)},
		Properties:          resultProps{Severity: f.Severity.String(), Subject: r.Subject.ARN, Resource: f.Resource},
	}
	if i, ok := b.index[f.Rule]; ok {
		res.RuleIndex = &i
	}
	res.Locations, res.RelatedLocations = b.locations(r.Subject.ARN, f.Resource)
	if f.Suppressed {
		// The exemption is a tag on the AWS resource, outside the files
		// the results point into: an external suppression.
		res.Suppressions = []suppression{{Kind: "external", Status: "accepted", Justification: f.SuppressedReason}}
	}
	return res
}

// locations puts a result where its resource is defined (the role whose
// policy grants too much), else where its subject is; the subject, when
// it is elsewhere, is a related location. A location nobody can find in
// the files still names the ARN, as a logical location.
func (b builder) locations(subject, resource string) (primary, related []location) {
	if resource == "" {
		resource = subject
	}
	res, resFound := b.locate(resource)
	sub, subFound := b.locate(subject)
	switch {
	case resource == subject:
		return []location{b.at(resource, res, resFound)}, nil
	case resFound:
		primary = []location{b.at(resource, res, true)}
		if subFound {
			one := 1
			rel := b.at(subject, sub, true)
			rel.ID = &one
			related = []location{rel}
		}
		return primary, related
	}
	return []location{b.at(subject, sub, subFound)}, nil
}

func (b builder) locate(arn string) (Location, bool) {
	if b.opt.Locate == nil || arn == "" {
		return Location{}, false
	}
	l, ok := b.opt.Locate(arn)
	return l, ok && l.URI != ""
}

func (b builder) at(arn string, l Location, found bool) location {
	loc := location{LogicalLocations: []logicalLocation{{FullyQualifiedName: arn, Kind: "resource"}}}
	if found {
		loc.PhysicalLocation = &physicalLocation{ArtifactLocation: artifactLocation{URI: l.URI}}
		if l.Line > 0 {
			loc.PhysicalLocation.Region = &region{StartLine: l.Line, StartColumn: max(l.Column, 0)}
		}
	}
	return loc
}

func (b builder) incomplete(r rules.Report) notification {
	n := notification{
		Level:   "error",
		Message: text{"the evaluation of " + r.Subject.ARN + " is incomplete: " + strings.Join(r.Errors, "; ")},
	}
	if i, ok := b.index[rules.IncompleteRule]; ok {
		n.AssociatedRule = &ruleRef{ID: rules.IncompleteRule, Index: i}
	}
	l, found := b.locate(r.Subject.ARN)
	n.Locations = []location{b.at(r.Subject.ARN, l, found)}
	return n
}

// fingerprint identifies a finding across runs: its rule, subject and
// resource. A task definition is its family, so that a new revision with
// the same mistake is the same alert.
func fingerprint(s rules.Subject, f rules.Finding) string {
	subject := s.ARN
	if s.Type == rules.SubjectTaskDefinition {
		if i := strings.LastIndexByte(subject, ':'); i > strings.LastIndexByte(subject, '/') {
			subject = subject[:i]
		}
	}
	sum := sha256.Sum256([]byte(f.Rule + "\x00" + subject + "\x00" + f.Resource))
	return hex.EncodeToString(sum[:16])
}
