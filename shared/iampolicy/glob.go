package iampolicy

import (
	"strings"
	"unicode/utf8"
)

// IAM globs have two wildcards: '*' matches any run of characters and '?'
// exactly one. Unlike path.Match, '/' is an ordinary character (resource
// wildcards cross path segments and ARN colons) and there are no classes or
// escapes. The matcher is the classic iterative glob of Go's path.Match,
// reduced to that scope: linear for a single star, no allocation.

// Bytes that stand for the literal '*', '?' and '$' a policy writes as ${*},
// ${?} and ${$}. They cannot occur in an ARN.
const (
	litStar     = 0x00
	litQuestion = 0x01
	litDollar   = 0x02
)

// matchGlob reports whether s matches pattern p. With fold, p must already be
// lower case and s is compared ASCII-case-insensitively (actions).
func matchGlob(p, s string, fold bool) bool {
	px, sx := 0, 0
	nextPx, nextSx := 0, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && sameByte(c, s[sx], fold) {
					px++
					sx++
					continue
				}
			}
		}
		// Mismatch: let the last star swallow one more character, if any.
		if 0 < nextSx && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func sameByte(p, s byte, fold bool) bool {
	switch p {
	case litStar:
		p = '*'
	case litQuestion:
		p = '?'
	case litDollar:
		p = '$'
	}
	if fold && 'A' <= s && s <= 'Z' {
		s += 'a' - 'A'
	}
	return p == s
}

// actionPattern is a compiled Action or NotAction value.
type actionPattern struct {
	text    string // as written, "s3:Get*"
	glob    string // lower case, "s3:get*"
	service string // lower-case service prefix when it has no wildcard, else ""
	literal bool   // no wildcard at all
}

func compileAction(a string) actionPattern {
	p := actionPattern{text: a, glob: strings.ToLower(a)}
	p.literal = !strings.ContainsAny(a, "*?")
	if svc, _, ok := strings.Cut(p.glob, ":"); ok && !strings.ContainsAny(svc, "*?") {
		p.service = svc
	}
	return p
}

func (p actionPattern) match(action string) bool { return matchGlob(p.glob, action, true) }

// resourcePattern is a compiled Resource or NotResource value. Policy
// variables other than the three escapes (${aws:username}, ${aws:PrincipalTag/team})
// take their value from the request, which is never known here: they match
// anything, and a match through one is only conditional.
type resourcePattern struct {
	glob     string
	variable bool
	// chunks is glob split at '*' when '*' is its only wildcard: then the
	// match is a prefix, a suffix and leftmost searches (strings.Index)
	// between them, which is exact for such globs and much faster.
	chunks []string
}

func (p resourcePattern) match(s string) bool {
	if p.chunks == nil {
		return matchGlob(p.glob, s, false)
	}
	return matchChunks(p.chunks, s)
}

func matchChunks(chunks []string, s string) bool {
	if len(chunks) == 1 {
		return chunks[0] == s
	}
	first, last := chunks[0], chunks[len(chunks)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, c := range chunks[1 : len(chunks)-1] {
		i := strings.Index(s, c)
		if i < 0 {
			return false
		}
		s = s[i+len(c):]
	}
	return true
}

func compileResource(r string) resourcePattern {
	p := compileResourceGlob(r)
	if !strings.ContainsAny(p.glob, "?\x00\x01\x02") {
		p.chunks = strings.Split(p.glob, "*")
	}
	return p
}

func compileResourceGlob(r string) resourcePattern {
	if !strings.Contains(r, "${") {
		return resourcePattern{glob: r}
	}
	var b strings.Builder
	p := resourcePattern{}
	for {
		i := strings.Index(r, "${")
		if i < 0 {
			b.WriteString(r)
			break
		}
		j := strings.IndexByte(r[i:], '}')
		if j < 0 {
			b.WriteString(r)
			break
		}
		b.WriteString(r[:i])
		switch name := r[i+2 : i+j]; name {
		case "*":
			b.WriteByte(litStar)
		case "?":
			b.WriteByte(litQuestion)
		case "$":
			b.WriteByte(litDollar)
		default:
			b.WriteByte('*')
			p.variable = true
		}
		r = r[i+j+1:]
	}
	p.glob = b.String()
	return p
}
