package iampolicy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// The differential test against @cloud-copilot/iam-simulate. The corpus
// (testdata/simulate/corpus.jsonl, from gen_simulate.go) holds policy sets
// and requests; want.jsonl holds iam-simulate's answers for them (from
// tools/node/simulate.mjs); known.json lists the documented semantic
// differences. See testdata/simulate/README.md.

const (
	simDir        = "testdata/simulate"
	simMinCompare = 20000
	simMaxReport  = 20
	// A resource pattern that matches no request of the corpus.
	simNeverMatch = "arn:never:match:::policy-variable-or-segment"
)

type simLine struct {
	Policy   *string             `json:"policy"`
	Doc      json.RawMessage     `json:"doc"`
	Set      *int                `json:"set"`
	Identity []string            `json:"identity"`
	Boundary *string             `json:"boundary"`
	ID       *int                `json:"id"`
	Action   string              `json:"action"`
	Resource string              `json:"resource"`
	Context  map[string][]string `json:"context"`
}

type simSet struct {
	id       int
	identity []string
	boundary string // "" for none
}

type simRequest struct {
	id       int
	set      int
	action   string
	resource string
	context  map[string][]string // request keys such as iam:PassedToService
}

type simWant struct {
	want string
	cond any // condition expression of a Conditional answer, see simulate.mjs
}

type simKnown struct {
	Class  string `json:"class,omitempty"`
	IDs    []int  `json:"ids,omitempty"`
	Reason string `json:"reason"`
}

type simCorpus struct {
	docs     map[string]string // policy name -> document text as Parse takes it
	sets     map[int]simSet
	requests []simRequest
}

func simReadLines(t *testing.T, name string, each func(line []byte) error) {
	t.Helper()
	f, err := os.Open(filepath.Join(simDir, name))
	if err != nil {
		t.Fatalf("%v (regenerate with `make simulate`)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := each(sc.Bytes()); err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func simLoadCorpus(t *testing.T) *simCorpus {
	c := &simCorpus{docs: map[string]string{}, sets: map[int]simSet{}}
	simReadLines(t, "corpus.jsonl", func(b []byte) error {
		var l simLine
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		switch {
		case l.Policy != nil:
			text := string(l.Doc)
			if bytes.HasPrefix(bytes.TrimSpace(l.Doc), []byte(`"`)) {
				// Stored URL-encoded, as a JSON string.
				if err := json.Unmarshal(l.Doc, &text); err != nil {
					return err
				}
			}
			c.docs[*l.Policy] = text
		case l.ID != nil:
			if l.Set == nil {
				return fmt.Errorf("request %d has no set", *l.ID)
			}
			c.requests = append(c.requests, simRequest{*l.ID, *l.Set, l.Action, l.Resource, l.Context})
		case l.Set != nil:
			s := simSet{id: *l.Set, identity: l.Identity}
			if l.Boundary != nil {
				s.boundary = *l.Boundary
			}
			c.sets[s.id] = s
		default:
			return fmt.Errorf("unknown line %s", b)
		}
		return nil
	})
	return c
}

func simLoadWant(t *testing.T) map[int]simWant {
	want := map[int]simWant{}
	simReadLines(t, "want.jsonl", func(b []byte) error {
		var l struct {
			ID   int    `json:"id"`
			Want string `json:"want"`
			Cond any    `json:"cond"`
		}
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		want[l.ID] = simWant{l.Want, l.Cond}
		return nil
	})
	return want
}

func simLoadKnown(t *testing.T) []simKnown {
	b, err := os.ReadFile(filepath.Join(simDir, "known.json"))
	if err != nil {
		t.Fatal(err)
	}
	var known []simKnown
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&known); err != nil {
		t.Fatalf("known.json: %v", err)
	}
	for i, k := range known {
		switch {
		case k.Reason == "":
			t.Fatalf("known.json entry %d has no reason", i)
		case (k.Class == "") == (len(k.IDs) == 0):
			t.Fatalf("known.json entry %d needs exactly one of class and ids", i)
		case k.Class != "" && simClasses[k.Class] == nil:
			t.Fatalf("known.json entry %d: unknown class %q", i, k.Class)
		}
	}
	return known
}

// ---------------------------------------------------------------------------
// Classes of documented differences: places where iam-simulate departs from
// the AWS documentation. A class explains a disagreement when, after the
// corpus is rewritten the way iam-simulate reads it, ecsguard gives
// iam-simulate's answer.

// simStmt is one statement of a document being rewritten.
type simStmt = map[string]any

// simRewriteFunc returns the statements that replace st (none drops it).
type simRewriteFunc func(r simRequest, st simStmt) []simStmt

type simClass struct {
	rewrite simRewriteFunc
	// versioned reads every document as if it had "Version": "2012-10-17".
	versioned bool
	// rewriteResource adjusts the request resource along with rewrite.
	rewriteResource func(string) string
}

var simClasses = map[string]*simClass{
	// iam-simulate resolves policy variables in every document; AWS only
	// in those with "Version": "2012-10-17" (otherwise "variables like
	// ${aws:username} are treated as literal strings", Variables and tags
	// page). Checked by giving every document that Version.
	"unversioned-variables": {versioned: true},
	// iam-simulate (Discovery) counts Null "true" and a ForAllValues
	// condition as holding when the presence of their key is unknown.
	// AWS's condition operators page makes Null "true" hold only when the
	// key is absent, and ForAllValues when it is absent or every value
	// matches: both depend on the request, which ecsguard answers as
	// Conditional. Checked by dropping those conditions, iam-simulate's
	// reading: ecsguard then gives its answer.
	"unknown-presence": {rewrite: func(r simRequest, st simStmt) []simStmt {
		cond, ok := st["Condition"].(map[string]any)
		if !ok {
			return []simStmt{st}
		}
		svc, _, _ := strings.Cut(strings.ToLower(r.action), ":")
		out := map[string]any{}
		for op, keys := range cond {
			kept := map[string]any{}
			for k, v := range keys.(map[string]any) {
				lk := strings.ToLower(k)
				prefix, _, _ := strings.Cut(lk, ":")
				undecided := !simSession.KnowsPresence(lk) && (prefix == "aws" || prefix == svc)
				lop := strings.ToLower(op)
				if undecided && ((lop == "null" && simAnyString(v, func(s string) bool { return strings.EqualFold(s, "true") })) ||
					(strings.HasPrefix(lop, "forallvalues:") && !strings.Contains(lop, "not"))) {
					continue
				}
				kept[k] = v
			}
			if len(kept) > 0 {
				out[op] = kept
			}
		}
		if len(out) == 0 {
			delete(st, "Condition")
		} else {
			st["Condition"] = out
		}
		return []simStmt{st}
	}},
	// An ARN with upper case in its partition or service: AWS names them
	// in lower case (reference-arns.html), IAM Access Analyzer reports other
	// case as invalid, and AWS documents no matching for them. iam-simulate
	// compares those segments case-insensitively, as if valid; ecsguard
	// reads them so too but only conditionally, with a note.
	"arn-prefix-case": {
		rewrite: func(_ simRequest, st simStmt) []simStmt {
			simMapStrings(st, "Resource", simLowerARNPrefix)
			simMapStrings(st, "NotResource", simLowerARNPrefix)
			return []simStmt{st}
		},
		rewriteResource: simLowerARNPrefix,
	},
	// iam-simulate lets a '*' anywhere in the resource part of an ARN match a
	// ':' of the resource (an S3 key "prod:v2/..."). The IAM Resource element
	// page lets only a '*' that ends a segment match past a colon. Checked by
	// replacing every Resource that matches segment by segment but not under
	// the documented rule with the request's resource, as iam-simulate reads
	// it.
	"wildcard-in-segment-crosses-colon": {rewrite: func(r simRequest, st simStmt) []simStmt {
		simMapStrings(st, "Resource", func(p string) string {
			if !globToRegexp(p, false).MatchString(r.resource) && simSegmentMatch(p, r.resource) {
				return r.resource
			}
			return p
		})
		return []simStmt{st}
	}},
	// iam-simulate matches each of partition, service, region and account on
	// its own (padding a short ARN with "*" segments): a wildcard there never
	// spans a ':'. The IAM Resource element page says a '*' that ends a
	// segment can match past the colon.
	"segment-spanning-wildcard": {rewrite: func(r simRequest, st simStmt) []simStmt {
		simMapStrings(st, "Resource", func(p string) string {
			if globToRegexp(p, false).MatchString(r.resource) && !simSegmentMatch(p, r.resource) {
				return simNeverMatch
			}
			return p
		})
		return []simStmt{st}
	}},
}

func simStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func simLowerARNPrefix(s string) string {
	if len(s) < 4 || !strings.EqualFold(s[:4], "arn:") {
		return s
	}
	parts := strings.SplitN(s, ":", 6)
	for i := 0; i < len(parts) && i < 5; i++ {
		parts[i] = strings.ToLower(parts[i])
	}
	return strings.Join(parts, ":")
}

// simGlob is a plain IAM wildcard match, case-sensitive.
func simGlob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if simGlob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && simGlob(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && simGlob(p[1:], s[1:])
}

// simSegmentMatch is iam-simulate's reading of a Resource pattern: a short
// ARN is padded with "*" segments, partition, service, region and account
// are matched one by one, the resource type prefix literally, the rest as a
// wildcard pattern.
func simSegmentMatch(p, resource string) bool {
	if p == "*" {
		return true
	}
	ps := strings.Split(p, ":")
	for len(ps) < 6 {
		ps = append(ps, "*")
	}
	ps = append(ps[:5:5], strings.Join(ps[5:], ":"))
	rs := strings.SplitN(resource, ":", 6)
	if len(rs) < 6 {
		return false
	}
	for i := 1; i < 5; i++ {
		if !simGlob(ps[i], rs[i]) {
			return false
		}
	}
	product, id := "", ps[5]
	if !(ps[2] == "s3" && ps[3] == "" && ps[4] == "") {
		if i := strings.IndexAny(id, "/:"); i >= 0 {
			product, id = id[:i+1], id[i+1:]
		}
	}
	return strings.HasPrefix(rs[5], product) && simGlob(id, rs[5][len(product):])
}

func simAnyString(v any, f func(string) bool) bool {
	switch v := v.(type) {
	case string:
		return f(v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && f(s) {
				return true
			}
		}
	}
	return false
}

func simMapStrings(st map[string]any, key string, f func(string) string) {
	switch v := st[key].(type) {
	case string:
		st[key] = f(v)
	case []any:
		for i, x := range v {
			if s, ok := x.(string); ok {
				v[i] = f(s)
			}
		}
	}
}

// ---------------------------------------------------------------------------

type simEval struct {
	t      *testing.T
	corpus *simCorpus
	sets   map[int]*iampolicy.Set
	errs   map[int]error // set id -> parse error of one of its policies
}

func (e *simEval) build(s simSet, rewrite func(simStmt) []simStmt, versioned bool) (*iampolicy.Set, error) {
	load := func(name string) (*iampolicy.Policy, error) {
		text, ok := e.corpus.docs[name]
		if !ok {
			return nil, fmt.Errorf("unknown policy %s", name)
		}
		if rewrite != nil {
			var err error
			if text, err = simRewrite(text, rewrite, versioned); err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
		}
		d, err := iampolicy.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("Parse %s: %v", name, err)
		}
		return &iampolicy.Policy{Name: name, Document: d}, nil
	}
	var identity []iampolicy.Policy
	for _, name := range s.identity {
		p, err := load(name)
		if err != nil {
			return nil, err
		}
		identity = append(identity, *p)
	}
	var boundary *iampolicy.Policy
	if s.boundary != "" {
		var err error
		if boundary, err = load(s.boundary); err != nil {
			return nil, err
		}
	}
	return iampolicy.NewSetIn(simSession, identity, boundary), nil
}

// simSession is the request context of the corpus: a session of the
// simulated role, as tools/node/simulate.mjs gives it to iam-simulate.
var simSession = iampolicy.RoleSession("arn:aws:iam::111122223333:role/ecsguard-sim", nil)

func (r simRequest) decide(s *iampolicy.Set, resource string) iampolicy.Decision {
	return s.EvaluateRequest(iampolicy.Request{Action: r.action, Resource: resource, Context: r.context}).Decision
}

// decideRewritten answers a request for its set rewritten by fs, applied in
// order to every statement (and every document versioned, if asked).
func (e *simEval) decideRewritten(r simRequest, resource string, fs []simRewriteFunc, versioned bool) (string, error) {
	s, err := e.build(e.corpus.sets[r.set], func(st simStmt) []simStmt {
		out := []simStmt{st}
		for _, f := range fs {
			var next []simStmt
			for _, x := range out {
				next = append(next, f(r, x)...)
			}
			out = next
		}
		return out
	}, versioned)
	if err != nil {
		return "", fmt.Errorf("request %d: rewriting set %d: %v", r.id, r.set, err)
	}
	return r.decide(s, resource).String(), nil
}

// simRewrite applies f to every statement of a document (plain or
// URL-encoded) and returns it as plain JSON with the statements f returns.
func simRewrite(text string, f func(simStmt) []simStmt, versioned bool) (string, error) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "{") {
		var err error
		if text, err = url.PathUnescape(text); err != nil {
			return "", err
		}
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		return "", err
	}
	var in []any
	switch st := d["Statement"].(type) {
	case map[string]any:
		in = []any{st}
	case []any:
		in = st
	}
	out := []any{}
	for _, s := range in {
		m, ok := s.(map[string]any)
		if !ok {
			out = append(out, s)
			continue
		}
		for _, x := range f(m) {
			out = append(out, x)
		}
	}
	d["Statement"] = out
	if versioned {
		d["Version"] = "2012-10-17"
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// explain returns the classes of known that explain a disagreement, or nil.
func (e *simEval) explain(r simRequest, w simWant, got iampolicy.Decision, known []simKnown) []int {
	type outcome struct{ want, got string }
	apply := func(idx []int) outcome {
		var rewrites []simRewriteFunc
		resource := r.resource
		versioned := false
		o := outcome{want: w.want, got: got.String()}
		for _, i := range idx {
			c := simClasses[known[i].Class]
			if c.rewrite != nil {
				rewrites = append(rewrites, c.rewrite)
			}
			versioned = versioned || c.versioned
			if c.rewriteResource != nil {
				resource = c.rewriteResource(resource)
			}
		}
		if len(idx) > 0 {
			g, err := e.decideRewritten(r, resource, rewrites, versioned)
			if err != nil {
				e.t.Error(err)
				return o
			}
			o.got = g
		}
		return o
	}
	var classes []int
	for i, k := range known {
		if slices.Contains(k.IDs, r.id) {
			return []int{i}
		}
		if k.Class != "" {
			classes = append(classes, i)
		}
	}
	for _, i := range classes {
		if o := apply([]int{i}); o.want == o.got {
			return []int{i}
		}
	}
	if len(classes) < 2 {
		return nil
	}
	if o := apply(classes); o.want != o.got {
		return nil
	}
	// Explained only together: credit the classes it needs.
	var used []int
	for j, i := range classes {
		rest := slices.Delete(slices.Clone(classes), j, j+1)
		if o := apply(rest); o.want != o.got {
			used = append(used, i)
		}
	}
	if len(used) > 0 {
		return used
	}
	// Several classes explain it, each on its own part: credit the ones
	// that change an answer.
	base := apply(nil)
	for _, i := range classes {
		if apply([]int{i}) != base {
			used = append(used, i)
		}
	}
	if len(used) == 0 {
		used = classes
	}
	return used
}

func TestAgreesWithIAMSimulate(t *testing.T) {
	corpus := simLoadCorpus(t)
	want := simLoadWant(t)
	known := simLoadKnown(t)
	if len(want) != len(corpus.requests) {
		t.Fatalf("want.jsonl has %d answers for %d requests: regenerate with `make simulate`", len(want), len(corpus.requests))
	}

	e := &simEval{t: t, corpus: corpus, sets: map[int]*iampolicy.Set{}, errs: map[int]error{}}
	for id, s := range corpus.sets {
		set, err := e.build(s, nil, false)
		if err != nil {
			e.errs[id] = err
			continue
		}
		e.sets[id] = set
	}

	var compared, agreed, errored int
	credit := make([]int, len(known))
	var report []string
	unexplained := 0
	for _, r := range corpus.requests {
		w, ok := want[r.id]
		if !ok {
			t.Fatalf("want.jsonl has no answer for request %d: regenerate with `make simulate`", r.id)
		}
		if strings.HasPrefix(w.want, "error:") {
			errored++
			continue
		}
		compared++
		s := corpus.sets[r.set]
		describe := func(got string) string {
			line := fmt.Sprintf("id %d set %d (identity %s, boundary %q): %s on %s: iam-simulate %s, ecsguard %s",
				r.id, r.set, strings.Join(s.identity, ","), s.boundary, r.action, r.resource, w.want, got)
			if w.cond != nil {
				c, _ := json.Marshal(w.cond)
				line += " (conditions " + string(c) + ")"
			}
			return line
		}
		set := e.sets[r.set]
		if set == nil {
			unexplained++
			report = append(report, describe(fmt.Sprintf("error: %v", e.errs[r.set])))
			continue
		}
		got := r.decide(set, r.resource)
		if got.String() == w.want {
			agreed++
			continue
		}
		if used := e.explain(r, w, got, known); len(used) > 0 {
			for _, i := range used {
				credit[i]++
			}
			continue
		}
		unexplained++
		report = append(report, describe(got.String()))
	}

	var classes []string
	for i, k := range known {
		classes = append(classes, fmt.Sprintf("%s %d", simKnownName(k), credit[i]))
	}
	t.Logf("iam-simulate: %d requests compared, %d agreed, %d known differences (%s), %d unexplained, %d simulator errors excluded",
		compared, agreed, compared-agreed-unexplained, strings.Join(classes, ", "), unexplained, errored)

	if unexplained > 0 {
		shown := report
		if len(shown) > simMaxReport {
			shown = shown[:simMaxReport]
		}
		t.Errorf("%d requests where ecsguard disagrees with iam-simulate and known.json does not explain it (first %d):\n  %s",
			unexplained, len(shown), strings.Join(shown, "\n  "))
	}
	if compared < simMinCompare {
		t.Errorf("only %d requests compared, want at least %d", compared, simMinCompare)
	}
	for i, k := range known {
		if credit[i] == 0 {
			t.Errorf("known.json entry %d (%s) explains no disagreement any more: remove it", i, simKnownName(k))
		}
	}
}

func simKnownName(k simKnown) string {
	if k.Class != "" {
		return k.Class
	}
	return fmt.Sprintf("ids %v", k.IDs)
}
