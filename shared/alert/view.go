package alert

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/assess"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// subjectView is one alerting verdict prepared for the texts and the
// document: its findings sorted, their newness resolved, and what the
// message sizes need measured once.
type subjectView struct {
	r      rules.Report
	usedBy []rules.Use
	// known says the state before the event is known: only then are
	// findings marked new and listed in the document's newFindings.
	known bool
	// open are the unsuppressed findings, most severe first, report order
	// within a severity; isNew says which are in the verdict's New()
	// (all of them when the state before is unknown).
	open  []rules.Finding
	isNew []bool
	// suppressed are the findings an exemption suppressed, in report
	// order.
	suppressed []rules.Finding
	// newRules are the sorted rule IDs of the findings the event brought,
	// when known; [] when it brought none.
	newRules []string
	// brought is the highest severity among the findings the event
	// brought, bringsAny whether it brought any.
	brought   rules.Severity
	bringsAny bool
	// real counts the open findings other than the incomplete-evaluation
	// one, which the texts announce on their own.
	real int
	// label names the subject briefly ("web-api:42", a role's name), kind
	// says what it is ("Task definition").
	label, kind string

	// Measured once, on first use.
	slim     []byte // the report JSON without policy statements
	full     []byte // with them; nil when a statement is not valid JSON
	fullOK   bool
	fullSet  bool
	slimEsc  int            // slim's size in the body
	entries  int            // the subject's newFindings and usedBy entries in the document, in the body
	texts    map[int]string // the email text by limit
	textLens map[int]int    // the email section's size in the body, by limit
	line     string         // the email's AFFECTED line, wrapped
}

func newSubjectView(v assess.Verdict) *subjectView {
	r := v.Report
	s := &subjectView{r: r, usedBy: v.UsedBy, known: v.BeforeKnown, label: subjectLabel(r.Subject), kind: subjectKind(r.Subject.Type)}
	type ranked struct {
		f   rules.Finding
		new bool
	}
	var open []ranked
	var newKeys map[string]bool
	if s.known {
		fresh := v.New()
		newKeys = make(map[string]bool, len(fresh))
		s.newRules = make([]string, 0, len(fresh))
		for _, f := range fresh {
			newKeys[assess.Key(f)] = true
			s.newRules = append(s.newRules, f.Rule)
		}
		slices.Sort(s.newRules)
		s.newRules = slices.Compact(s.newRules)
	}
	for _, f := range r.Findings {
		if f.Suppressed {
			s.suppressed = append(s.suppressed, f)
			continue
		}
		isNew := !s.known || newKeys[assess.Key(f)]
		open = append(open, ranked{f, isNew})
		if isNew {
			s.bringsAny = true
			s.brought = max(s.brought, f.Severity)
		}
		if f.Rule != rules.IncompleteRule {
			s.real++
		}
	}
	slices.SortStableFunc(open, func(a, b ranked) int { return cmp.Compare(b.f.Severity, a.f.Severity) })
	for _, o := range open {
		s.open = append(s.open, o.f)
		s.isNew = append(s.isNew, o.new)
	}
	return s
}

// headline is the severity the subject leads with: the highest of the
// findings the event brought, else the highest open one (as
// [assess.Assessment.Headline] for the one subject).
func (s *subjectView) headline() rules.Severity {
	if s.brought > 0 {
		return s.brought
	}
	return s.r.Highest()
}

// marked reports whether the text marks open finding i new: it is among
// the findings the event brought, and the state before is known (else
// every finding would be "new" and the mark would say nothing).
func (s *subjectView) marked(i int) bool { return s.known && s.isNew[i] }

// top returns the finding the subject line names: the most severe the
// event brought, else the most severe open one, never the
// incomplete-evaluation one.
func (s *subjectView) top() (rules.Finding, bool) {
	for i, f := range s.open {
		if f.Rule != rules.IncompleteRule && s.isNew[i] {
			return f, true
		}
	}
	for _, f := range s.open {
		if f.Rule != rules.IncompleteRule {
			return f, true
		}
	}
	return rules.Finding{}, false
}

// slimJSON is the report JSON without policy statements. It always
// marshals: what is left is strings, numbers and typed values whose text
// never fails.
func (s *subjectView) slimJSON() []byte {
	if s.slim == nil {
		b, err := marshal(withoutStatements(s.r))
		if err != nil {
			// Unreachable (see above); an alert is still better than none.
			b, _ = marshal(rules.Report{SchemaVersion: s.r.SchemaVersion, Subject: s.r.Subject, Findings: []rules.Finding{}, Errors: []string{err.Error()}})
		}
		s.slim = b
	}
	return s.slim
}

// fullJSON is the report JSON with its statements; ok is false when a
// statement is not valid JSON, and the report then goes out without them.
func (s *subjectView) fullJSON() (b []byte, ok bool) {
	if !s.fullSet {
		s.full, _ = marshal(s.r)
		s.fullOK, s.fullSet = s.full != nil, true
	}
	return s.full, s.fullOK
}

// docEntries is the size, escaped in the body, of what the subject adds to
// a change document besides its report: its newFindings and usedBy
// entries.
func (s *subjectView) docEntries() int {
	if s.entries == 0 {
		n := 1
		arn, _ := marshal(s.r.Subject.ARN)
		if s.known {
			ids, _ := marshal(s.newRules)
			n += escLen(string(arn)+":"+string(ids)+",") - 2
		}
		if len(s.usedBy) > 0 {
			uses, _ := marshal(s.usedBy)
			n += escLen(string(arn)+":"+string(uses)+",") - 2
		}
		s.entries = n
	}
	return s.entries
}

// eventView is the event of an assessment prepared for rendering, with its
// alerting subjects.
type eventView struct {
	e    assess.Event
	subs []*subjectView
	// single says the default body is the subject's report itself, as
	// SPEC §4's finding report: a registration with one alerting verdict.
	single bool
	// account and region are the event's, else the first report's that
	// has one.
	account, region string
	// roles are the roles reached as the documents list them: all, unless
	// they alone would crowd out the reports (rolesOmitted then counts the
	// others).
	roles        []string
	rolesOmitted int
	// notes are the assessment's notes, each on one line.
	notes []string
	// brought says the event brought a finding on some subject.
	brought bool
}

const (
	// maxDocRoles bounds the roles reached that each document lists, in
	// bytes: a policy attached to thousands of roles must not leave no
	// room for the reports.
	maxDocRoles = 16 << 10
	// maxNote and maxNotes bound the notes each part repeats.
	maxNote  = 1 << 10
	maxNotes = 16
)

func newEventView(a assess.Assessment) *eventView {
	ev := &eventView{e: a.Event, account: oneLine(a.Event.Account), region: oneLine(a.Event.Region)}
	for _, v := range a.Alerting() {
		s := newSubjectView(v)
		ev.subs = append(ev.subs, s)
		ev.account = cmp.Or(ev.account, oneLine(s.r.Account))
		ev.region = cmp.Or(ev.region, oneLine(s.r.Region))
		ev.brought = ev.brought || s.bringsAny
	}
	ev.single = a.Event.Kind == assess.Registration && len(ev.subs) == 1
	if ev.single && len(a.Notes) > 0 {
		// A registration's body is its report: the notes go in it.
		ev.subs[0].r.Notes = slices.Clone(a.Notes)
	}
	size := 0
	for i, r := range a.Event.Roles {
		if size += len(r) + 3; size > maxDocRoles {
			ev.rolesOmitted = len(a.Event.Roles) - i
			break
		}
		ev.roles = append(ev.roles, r)
	}
	if ev.roles == nil {
		ev.roles = []string{}
	}
	for i, n := range a.Notes {
		if i == maxNotes {
			ev.notes = append(ev.notes, fmt.Sprintf("… %d more notes", len(a.Notes)-maxNotes))
			break
		}
		ev.notes = append(ev.notes, truncate(orNone(oneLine(n)), maxNote))
	}
	if ev.notes == nil {
		ev.notes = []string{}
	}
	return ev
}

// eventName names the event for the texts.
func (ev *eventView) eventName() string {
	if n := oneLine(ev.e.Name); n != "" {
		return n
	}
	switch ev.e.Kind {
	case assess.RoleChange:
		return "IAM change"
	case assess.Registration:
		return "registration"
	}
	return "change"
}

// noEvent reports whether the assessment was made without an event (a
// scan), which the texts then say.
func (ev *eventView) noEvent() bool {
	return ev.e.ID == "" && ev.e.Name == "" && ev.e.Actor == ""
}

// target is what a change changed: the role's name, else the policy's
// name, else "".
func (ev *eventView) target() string {
	if r := oneLine(ev.e.Role); r != "" {
		return r[strings.LastIndexByte(r, '/')+1:]
	}
	p := oneLine(ev.e.Policy)
	if strings.HasPrefix(p, "arn:") {
		p = p[strings.LastIndexByte(p, '/')+1:]
	}
	return p
}

// part is one message: some of the alerting subjects, and how much of
// them it says.
type part struct {
	k, n int // 1-based; n is the number of messages
	subs []*subjectView
	// order lists the subs most severe first (subject order within a
	// severity), the order the texts list them in.
	order []int
	// headline is the severity the part leads with (its subjects' as
	// [assess.Assessment.Headline]); brought says some subject of the
	// part brought a finding.
	headline rules.Severity
	brought  bool

	// full: the reports keep their policy statements.
	full bool
	// limit is how many errors, findings, suppressed findings and uses
	// the email lists per subject.
	limit int
	// sum is set when the part's one subject is too large for a message
	// even without statements: its report is summarised.
	sum *summary
}

func newPart(k, n int, subs []*subjectView) *part {
	p := &part{k: k, n: n, subs: subs, order: make([]int, len(subs))}
	var open rules.Severity
	for i, s := range subs {
		p.order[i] = i
		p.brought = p.brought || s.bringsAny
		if s.bringsAny {
			p.headline = max(p.headline, s.brought)
		}
		open = max(open, s.r.Highest())
	}
	if p.headline == 0 {
		p.headline = open
	}
	slices.SortStableFunc(p.order, func(a, b int) int { return cmp.Compare(subs[b].headline(), subs[a].headline()) })
	return p
}

// slim reports whether the part's reports left out their statements.
func (p *part) slim() bool { return !p.full }

// tagWord is the bracketed word a severity leads a line with: its name,
// or OK when nothing is open (an alert for an action alone).
func tagWord(s rules.Severity) string {
	if s > 0 {
		return s.String()
	}
	return "OK"
}

// subjectLabel is the family:revision of a task definition ARN, the name
// of a role (the last path segment), the name in another ARN, or the ARN
// itself when it has none of these.
func subjectLabel(s rules.Subject) string {
	arn := oneLine(s.ARN)
	switch {
	case strings.Contains(arn, ":task-definition/"):
		arn = arn[strings.LastIndex(arn, ":task-definition/")+len(":task-definition/"):]
	case strings.Contains(arn, ":role/"):
		arn = arn[strings.LastIndexByte(arn, '/')+1:]
	case s.Type == rules.SubjectResource:
		arn = resourceName(arn)
	}
	if arn == "" {
		return "unknown subject"
	}
	return arn
}

// resourceName is the name in an ARN: what follows the last '/' of its
// resource, else the resource after its type ("function:name"), else s.
func resourceName(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return s
	}
	res := parts[5]
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return cmp.Or(res[i+1:], res)
	}
	if i := strings.IndexByte(res, ':'); i >= 0 {
		return cmp.Or(res[i+1:], res)
	}
	return res
}

// actorName is who an actor ARN names: a user's or role's name, an
// assumed role's role and session.
func actorName(s string) string {
	parts := strings.SplitN(oneLine(s), ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return oneLine(s)
	}
	res := parts[5]
	if r, ok := strings.CutPrefix(res, "assumed-role/"); ok && r != "" {
		return r
	}
	if i := strings.LastIndexByte(res, '/'); i >= 0 && i < len(res)-1 {
		return res[i+1:]
	}
	return res
}

func subjectKind(t string) string {
	switch t {
	case rules.SubjectTaskDefinition:
		return "Task definition"
	case rules.SubjectRole:
		return "Role"
	case rules.SubjectResource:
		return "Resource"
	case "":
		return "Subject"
	}
	return oneLine(t)
}

// actionText says what enforcement did, for the texts.
func actionText(a rules.Action) string {
	switch {
	case a.Type == rules.ActionNone && a.Result.IsZero():
		return "none"
	case a.Result.IsZero():
		return a.Type.String() + " (no result recorded)"
	case a.Result.Kind == rules.Failed:
		return a.Type.String() + " failed: " + orNone(oneLine(a.Result.Detail))
	}
	return a.Result.String()
}

// actionVerb is the word the subject line gives a deregistration, "" when
// there was none.
func actionVerb(a rules.Action) string {
	if a.Type != rules.ActionDeregister {
		return ""
	}
	switch a.Result.Kind {
	case rules.Deregistered:
		return "deregistered"
	case rules.WouldDeregister:
		return "would be deregistered"
	case rules.Failed:
		return "deregister failed"
	}
	return "deregister"
}

// attributes are the message attributes subscribers filter on, over the
// part's subjects.
func (ev *eventView) attributes(p *part) map[string]string {
	a := make(map[string]string, 6)
	set := func(k, val string) {
		if val = strings.TrimSpace(val); val != "" {
			a[k] = val
		}
	}
	if p.headline > 0 {
		set("severity", p.headline.String())
	}
	var ids []string
	for _, s := range p.subs {
		for _, f := range s.open {
			if id := oneLine(f.Rule); id != "" {
				ids = append(ids, id)
			}
		}
	}
	set("rules", ruleList(ids))
	set("account", ev.account)
	set("accountName", oneLine(ev.e.AccountName))
	set("region", ev.region)
	if !ev.single {
		set("event", oneLine(ev.e.Name))
	}
	if p.n > 1 {
		set("part", fmt.Sprintf("%d/%d", p.k, p.n))
	}
	return a
}

// ruleList is the value of the rules attribute: the rule IDs, sorted and
// once each, as a JSON array; "" when there is none.
func ruleList(ids []string) string {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return ""
	}
	b, _ := json.Marshal(ids) // strings always marshal
	return string(b)
}

// accountLabel is the account as a reader knows it: its name in the
// organization and its id, or the id alone.
func (ev *eventView) accountLabel() string {
	if n := oneLine(ev.e.AccountName); n != "" && ev.account != "" {
		return n + " (" + ev.account + ")"
	}
	return ev.account
}
