package iampolicy

import (
	"slices"
	"strings"
)

// Comparisons between two action globs ('*' and '?', no segments), for the
// grants of wildcards that reach beyond the catalog: whether a Deny covers
// every action a wildcard grants, whether a boundary lets some of them
// through, whether a NotAction can exclude an action of a service.

// coverGlob reports whether every string p matches, q matches too: the
// subset construction over q's positions, walked along p, on the alphabet
// of the characters both globs name plus one that neither does.
func coverGlob(q, p string) bool {
	// The common shape, a literal prefix and one final star ("*", "s3:*",
	// "s3:Get*"), covers exactly what starts with the prefix before any
	// wildcard of p.
	if i := strings.IndexAny(q, "*?"); i == len(q)-1 && q[i] == '*' {
		lit := p
		if j := strings.IndexAny(p, "*?"); j >= 0 {
			lit = p[:j]
		}
		return strings.HasPrefix(lit, q[:i])
	}
	alphabet := []byte{0} // 0 stands for any character neither glob names
	for _, c := range []byte(q + p) {
		if c != '*' && c != '?' && !slices.Contains(alphabet, c) {
			alphabet = append(alphabet, c)
		}
	}
	type state struct {
		i  int
		qs string // q's positions, encoded
	}
	seen := map[state]bool{}
	var walk func(i int, qs []int) bool // qs is closed over empty stars
	walk = func(i int, qs []int) bool {
		k := state{i, encodeSet(qs)}
		if seen[k] {
			return true // a loop adds no string the walk has not tried
		}
		seen[k] = true
		pc := closure(p, []int{i})
		if slices.Contains(pc, len(p)) && !slices.Contains(qs, len(q)) {
			return false // p matches here, q does not
		}
		for _, c := range alphabet {
			nq := step(q, qs, c)
			for _, ni := range step(p, pc, c) {
				if !walk(ni, nq) {
					return false
				}
			}
		}
		return true
	}
	return walk(0, closure(q, []int{0}))
}

// closure adds the positions reachable over stars that match nothing.
func closure(g string, pos []int) []int {
	out := slices.Clone(pos)
	for k := 0; k < len(out); k++ {
		if i := out[k]; i < len(g) && g[i] == '*' && !slices.Contains(out, i+1) {
			out = append(out, i+1)
		}
	}
	slices.Sort(out)
	return out
}

// step moves the positions over one character c (0: a character the glob
// does not name).
func step(g string, pos []int, c byte) []int {
	var out []int
	for _, i := range pos {
		if i >= len(g) {
			continue
		}
		var next int
		switch g[i] {
		case '*':
			next = i
		case '?':
			next = i + 1
		default:
			if c == 0 || g[i] != c {
				continue
			}
			next = i + 1
		}
		if !slices.Contains(out, next) {
			out = append(out, next)
		}
	}
	return closure(g, out)
}

func encodeSet(pos []int) string {
	b := make([]byte, 0, len(pos)*2)
	for _, i := range pos {
		b = append(b, byte(i), byte(i>>8))
	}
	return string(b)
}

// intersectGlob reports whether some string matches both globs.
func intersectGlob(a, b string) bool {
	type state struct{ i, j int }
	seen := map[state]bool{}
	var walk func(i, j int) bool
	walk = func(i, j int) bool {
		k := state{i, j}
		if seen[k] {
			return false
		}
		seen[k] = true
		if i == len(a) && j == len(b) {
			return true
		}
		if i < len(a) && a[i] == '*' && walk(i+1, j) {
			return true
		}
		if j < len(b) && b[j] == '*' && walk(i, j+1) {
			return true
		}
		if i == len(a) || j == len(b) {
			return false
		}
		// Both consume one character: literals must agree, wildcards take any.
		ca, cb := a[i], b[j]
		if ca != '*' && ca != '?' && cb != '*' && cb != '?' && ca != cb {
			return false
		}
		ni, nj := i+1, j+1
		if ca == '*' {
			ni = i
		}
		if cb == '*' {
			nj = j
		}
		return walk(ni, nj)
	}
	return walk(0, 0)
}

// globMatchesPrefix reports whether q matches some string that starts with
// prefix: whether a NotAction pattern can exclude an action of a service
// (prefix "svc:").
func globMatchesPrefix(q, prefix string) bool {
	if prefix == "" {
		return true
	}
	if q == "" {
		return false
	}
	switch q[0] {
	case '*':
		return true // the star can take the rest of the prefix
	case '?':
		return globMatchesPrefix(q[1:], prefix[1:])
	}
	return q[0] == prefix[0] && globMatchesPrefix(q[1:], prefix[1:])
}
