package iampolicy

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run gen_catalog.go

// AccessLevel is the access level the IAM Service Authorization Reference
// gives an action. Every [LevelPermissionsManagement] and [LevelTagging]
// action is also a write: the reference files it under the more specific
// level.
type AccessLevel uint8

// The access levels, in the order of the Service Authorization Reference.
const (
	LevelUnknown               AccessLevel = iota // not in the catalog
	LevelList                                     // lists resources
	LevelRead                                     // reads resources or their metadata
	LevelWrite                                    // creates, changes or deletes resources
	LevelPermissionsManagement                    // grants or changes permissions
	LevelTagging                                  // changes tags only
)

var accessLevelNames = [...]string{
	LevelUnknown:               "Unknown",
	LevelList:                  "List",
	LevelRead:                  "Read",
	LevelWrite:                 "Write",
	LevelPermissionsManagement: "Permissions management",
	LevelTagging:               "Tagging",
}

// String returns the name of the level as the Service Authorization
// Reference writes it, "Permissions management" for
// [LevelPermissionsManagement], or "Unknown" for [LevelUnknown].
func (l AccessLevel) String() string {
	if int(l) < len(accessLevelNames) {
		return accessLevelNames[l]
	}
	return "AccessLevel(" + strconv.Itoa(int(l)) + ")"
}

// MarshalText implements [encoding.TextMarshaler] with [AccessLevel.String],
// so that levels read as words in JSON reports.
func (l AccessLevel) MarshalText() ([]byte, error) {
	return []byte(l.String()), nil
}

// Action is one IAM action of the catalog, as returned by [LookupAction],
// [ServiceActions] and [AllActions].
type Action struct {
	Service string // lower-case service prefix, "s3"
	Name    string // canonical casing, "GetObject"
	Level   AccessLevel

	folded   string // lower-case "s3:getobject", what the matcher reads
	id       int32  // position in the catalog plus one; 0 for an action it lacks
	wildcard bool   // a pattern standing for actions beyond the catalog
}

// String returns the action as a policy writes it, "s3:GetObject" (or
// "s3:Get*" for a wildcard).
func (a Action) String() string { return a.Service + ":" + a.Name }

// Wildcard reports whether the action is a wildcard of a [Grant] standing
// for the actions it matches beyond the catalog.
func (a Action) Wildcard() bool { return a.wildcard }

// LookupAction returns the catalog entry of an action written as
// "service:Name", matched case-insensitively as IAM matches actions
// ("S3:getobject" finds s3:GetObject). Only ASCII letters fold: every name in
// the catalog is ASCII. Wildcards are not expanded: "s3:Get*" is not found.
// It reports false for an action that is not in the catalog, in which case
// the returned [Action] has [LevelUnknown].
func LookupAction(action string) (Action, bool) {
	c := loadCatalog()
	var buf [maxFoldedKey]byte
	key, ok := foldASCII(buf[:0], action)
	if !ok {
		return Action{}, false
	}
	i, ok := c.index[string(key)] // no allocation: the conversion is only a map key
	if !ok {
		return Action{}, false
	}
	return c.actions[i], true
}

// ServiceActions returns every action of a service prefix, matched
// case-insensitively, sorted by name in byte order, or nil for a prefix the
// catalog does not know. The slice is shared: callers must not modify its
// elements (it is clipped, so appending to it copies).
func ServiceActions(service string) []Action {
	c := loadCatalog()
	var buf [maxFoldedKey]byte
	key, ok := foldASCII(buf[:0], service)
	if !ok {
		return nil
	}
	return c.byService[string(key)]
}

// Services returns the lower-case prefixes of every service in the catalog,
// sorted. The slice is the caller's to keep or modify.
func Services() []string {
	return slices.Clone(loadCatalog().services)
}

// AllActions returns every action of the catalog, sorted by service prefix,
// then by name, in byte order. The slice is shared: callers must not modify
// its elements (it is clipped, so appending to it copies).
func AllActions() []Action {
	return loadCatalog().actions
}

// catalog is catalogText parsed: one backing array of actions, sub-slices of
// it per service, and an index by folded name. The names are substrings of
// catalogText, so they cost no memory of their own.
type catalog struct {
	actions   []Action            // sorted by service, then name
	services  []string            // sorted
	byService map[string][]Action // prefix -> clipped sub-slice of actions
	index     map[string]int      // lower-case "service:name" -> position in actions
}

// maxFoldedKey bounds what LookupAction and ServiceActions fold on the
// stack. It is longer than any action in the catalog, so a longer argument
// cannot match.
const maxFoldedKey = 256

// loadCatalog parses catalogText on first use, exactly once. The parse is
// lazy so that a Lambda cold start does not pay for tens of thousands of
// entries up front: only a wildcard or NotAction to expand, or an action to
// classify, needs the catalog, and many evaluations have neither.
var loadCatalog = sync.OnceValue(parseCatalog)

// parseCatalog parses the format written by gen_catalog.go. catalogText is
// generated and checked by the tests, so a malformed line is a build defect
// and panics (sync.OnceValue repeats the panic to every caller).
func parseCatalog() *catalog {
	text := catalogText
	// Every name is preceded by a group's ':' or by a ','.
	n := strings.Count(text, ":") + strings.Count(text, ",")
	c := &catalog{
		actions:   make([]Action, 0, n),
		services:  make([]string, 0, strings.Count(text, "\n")),
		byService: make(map[string][]Action, strings.Count(text, "\n")),
		index:     make(map[string]int, n),
	}
	type span struct {
		svc        string
		start, end int
	}
	spans := make([]span, 0, cap(c.services))
	for line := range strings.Lines(text) {
		fields := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		svc := fields[0]
		if svc == "" || strings.ToLower(svc) != svc {
			panic("iampolicy: malformed catalog line " + strconv.Quote(line))
		}
		if len(c.services) > 0 && c.services[len(c.services)-1] >= svc {
			panic("iampolicy: catalog services out of order at " + svc)
		}
		start := len(c.actions)
		for _, group := range fields[1:] {
			letter, names, ok := strings.Cut(group, ":")
			level := catalogLevel(letter)
			if !ok || level == LevelUnknown {
				panic("iampolicy: malformed catalog group " + strconv.Quote(group) + " of " + svc)
			}
			for name := range strings.SplitSeq(names, ",") {
				if name == "" {
					panic("iampolicy: empty action name in catalog service " + svc)
				}
				c.actions = append(c.actions, Action{Service: svc, Name: name, Level: level})
			}
		}
		// Groups are per level; a service's actions are sorted by name.
		slices.SortFunc(c.actions[start:], func(a, b Action) int { return cmp.Compare(a.Name, b.Name) })
		c.services = append(c.services, svc)
		spans = append(spans, span{svc, start, len(c.actions)})
	}
	// Sub-slices are taken once the backing array is final, clipped so that
	// an append by a caller cannot overwrite the next service.
	c.actions = slices.Clip(c.actions)
	for _, sp := range spans {
		c.byService[sp.svc] = c.actions[sp.start:sp.end:sp.end]
	}

	// All keys go into one buffer: one allocation instead of one per action.
	size := 0
	for _, a := range c.actions {
		size += len(a.Service) + 1 + len(a.Name)
	}
	var b strings.Builder
	b.Grow(size)
	for _, a := range c.actions {
		b.WriteString(a.Service)
		b.WriteByte(':')
		for i := range len(a.Name) {
			ch := a.Name[i]
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b.WriteByte(ch)
		}
	}
	keys, off := b.String(), 0
	for i, a := range c.actions {
		end := off + len(a.Service) + 1 + len(a.Name)
		key := keys[off:end]
		off = end
		if _, dup := c.index[key]; dup || len(key) > maxFoldedKey || !isASCII(key) {
			panic("iampolicy: duplicate or invalid catalog action " + a.String())
		}
		c.index[key] = i
		c.actions[i].folded = key
		c.actions[i].id = int32(i + 1)
	}
	return c
}

func catalogLevel(letter string) AccessLevel {
	switch letter {
	case "L":
		return LevelList
	case "R":
		return LevelRead
	case "W":
		return LevelWrite
	case "P":
		return LevelPermissionsManagement
	case "T":
		return LevelTagging
	}
	return LevelUnknown
}

// foldASCII appends s with ASCII letters lowered to dst. It reports false
// when s is longer than maxFoldedKey or holds a byte that is not ASCII, as
// no entry of the catalog could match it then.
func foldASCII(dst []byte, s string) ([]byte, bool) {
	if len(s) > maxFoldedKey {
		return nil, false
	}
	for i := range len(s) {
		b := s[i]
		switch {
		case b >= 0x80:
			return nil, false
		case 'A' <= b && b <= 'Z':
			b += 'a' - 'A'
		}
		dst = append(dst, b)
	}
	return dst, true
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
