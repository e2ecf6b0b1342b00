package iampolicy

import (
	"cmp"
	"strings"
	"unicode/utf8"
)

// IAM globs have two wildcards: '*' matches any run of characters and '?'
// exactly one. Unlike path.Match, '/' is an ordinary character and there are
// no classes or escapes. The matcher is the classic iterative glob of Go's
// path.Match, reduced to that scope and extended with the ARN segments of
// resource patterns.
//
// In a Resource that is an ARN, "You can use wildcard characters (* and ?)
// within the individual segments of an ARN (the parts separated by colons)
// ... If the * wildcard is the last character of a resource ARN segment, it
// can expand to match beyond the colon boundaries."
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards)
// So a resource glob is compiled with two kinds of each wildcard: '*' and
// '?' match anything, segStar and segOne never match a ':'. A pattern
// without a colon ("*", "**", "*?") is no ARN and has no segments.

// Bytes that stand for the literal '*', '?' and '$' a policy writes as ${*},
// ${?} and ${$}, and for the wildcards that stay inside an ARN segment. They
// cannot occur in an ARN.
const (
	litStar     = 0x00
	litQuestion = 0x01
	litDollar   = 0x02
	segStar     = 0x03 // '*' that does not end its ARN segment
	segOne      = 0x04 // '?' in an ARN segment: one character, never ':'
)

// matchGlob reports whether s matches pattern p. With fold, p must already be
// lower case and s is compared ASCII-case-insensitively (actions).
//
// It keeps two backtracking points: the last star, and the last star that
// may cross a ':'. A later star can always do what an earlier one of the same
// kind could, so older points are not needed; but a segStar stopped by a ':'
// can only be rescued by an earlier star that crosses colons.
func matchGlob(p, s string, fold bool) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	crossPx, crossSx := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				crossPx, crossSx = px, sx
				px++
				continue
			case segStar:
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			case segOne:
				if sx < len(s) && s[sx] != ':' {
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
		// Mismatch: let the last star swallow one more character, or, when
		// that star may not cross the ':' ahead, the last one that may.
		if starPx >= 0 && starSx < len(s) && (p[starPx] == '*' || s[starSx] != ':') {
			starSx++
			if p[starPx] == '*' {
				crossSx = starSx
			}
			px, sx = starPx+1, starSx
			continue
		}
		if crossPx >= 0 && crossSx < len(s) {
			crossSx++
			starPx, starSx = crossPx, crossSx
			px, sx = crossPx+1, crossSx
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

// resourcePattern is a compiled Resource or NotResource value.
type resourcePattern struct {
	text string // as written
	glob string // compiled: wildcards by kind, variables resolved
	// raw is the pattern with variables resolved and plain '*' and '?', the
	// form in which another pattern can match it (Deny covers Allow).
	raw string
	// variable: the pattern holds a policy variable whose value only the
	// request has; it matches like a wildcard and only conditionally.
	variable bool
	// never: a policy variable has no value, so the pattern matches nothing.
	never bool
	// invalid says why IAM Access Analyzer calls the ARN invalid; it is
	// matched leniently (case-insensitive prefix) and only conditionally.
	invalid string
	// universal: the pattern matches every ARN ("*", "**", "*?", "arn:*",
	// "arn:aws:*"); wideService: it covers every resource of that service
	// ("arn:aws:s3:::*", "arn:aws:dynamodb:*:*:table/*").
	universal   bool
	wideService string
	// chunks is glob split at '*' when '*' is its only wildcard: then the
	// match is a prefix, a suffix and leftmost searches (strings.Index)
	// between them, which is exact for such globs and much faster.
	chunks []string
}

func (p *resourcePattern) match(s string) bool {
	switch {
	case p.never:
		return false
	case p.invalid != "":
		return matchGlob(p.glob, foldARNPrefix(s), false)
	case p.chunks != nil:
		return matchChunks(p.chunks, s)
	}
	return matchGlob(p.glob, s, false)
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

// compileResource compiles a Resource value of a document (versioned: it
// has "Version": "2012-10-17", so it may hold policy variables) for ctx.
func compileResource(r string, versioned bool, ctx *Context) resourcePattern {
	p := resourcePattern{text: r}
	parts := []varPart{{text: r}}
	if versioned && strings.Contains(r, "${") {
		parts = splitVariables(r)
	}
	segmented := strings.Contains(r, ":")
	var glob, raw strings.Builder
	for i, part := range parts {
		if part.variable {
			v, state := part.resolve(ctx)
			switch state {
			case varNone:
				p.never = true
			case varUnknown:
				p.variable = true
				glob.WriteByte('*')
				raw.WriteByte('*')
			default:
				glob.WriteString(escapeLiteral(v))
				raw.WriteString(v)
			}
			continue
		}
		t := part.text
		for j := 0; j < len(t); j++ {
			c := t[j]
			switch {
			case c == '*' && segmented && !endsSegment(parts, i, t, j):
				glob.WriteByte(segStar)
			case c == '?' && segmented:
				glob.WriteByte(segOne)
			default:
				glob.WriteByte(c)
			}
			raw.WriteByte(c)
		}
	}
	p.glob, p.raw = glob.String(), unescapeLiteral(raw.String())
	if segmented {
		if why := invalidARN(r); why != "" {
			p.invalid = why
			p.glob = foldARNPrefix(p.glob)
		}
	}
	if p.invalid == "" && !strings.ContainsAny(p.glob, "?\x00\x01\x02\x03\x04") {
		p.chunks = strings.Split(p.glob, "*")
	}
	if !p.never && !p.variable {
		partition := cmp.Or(ctx.partition, "aws")
		p.universal = p.match("arn:" + partition + ":~svc:~region-1:~000000000000:~type/~id:~x")
		p.wideService = serviceWide(p.raw, partition, ctx.account)
	}
	return p
}

// everyResource reports whether the pattern covers every resource an action
// of service can act on.
func (p *resourcePattern) everyResource(service string) bool {
	return p.universal || (p.wideService != "" && p.wideService == service)
}

// serviceWide returns the service whose every resource the ARN pattern
// covers, or "": a literal service, any region (or none, for global
// resources), any account or the principal's own, and a resource part
// that is all wildcard, or a resource type and all wildcard
// ("table/*", "log-group:*", "secret:*"). A resource type needs a region or
// account in the ARN: in "arn:aws:s3:::logs/*" the first word is a bucket.
func serviceWide(raw, partition, account string) string {
	seg := strings.SplitN(raw, ":", 6)
	if len(seg) != 6 || seg[0] != "arn" || !(allStars(seg[1]) || seg[1] == partition) {
		return ""
	}
	svc, region, acct, res := seg[2], seg[3], seg[4], seg[5]
	if svc == "" || strings.Trim(svc, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return ""
	}
	if region != "" && !allStars(region) {
		return ""
	}
	if acct != "" && !allStars(acct) && acct != account {
		return ""
	}
	if allStars(res) {
		return svc
	}
	i := strings.IndexAny(res, "/:")
	if i <= 0 || (region == "" && acct == "") || !allStars(res[i+1:]) {
		return ""
	}
	if strings.ContainsAny(res[:i], "*?") {
		return ""
	}
	return svc
}

// allStars reports whether s is one or more '*'.
func allStars(s string) bool { return s != "" && strings.Trim(s, "*") == "" }

// endsSegment reports whether the '*' at t[j] of parts[i] is the last
// character of its ARN segment: the pattern ends or a ':' follows.
func endsSegment(parts []varPart, i int, t string, j int) bool {
	if j+1 < len(t) {
		return t[j+1] == ':'
	}
	for _, next := range parts[i+1:] {
		if next.variable {
			return false
		}
		if next.text != "" {
			return next.text[0] == ':'
		}
	}
	return true
}

// invalidARN says why IAM Access Analyzer would reject a resource ARN that
// ecsguard still has to read: a wildcard in the service segment ("You
// can't use a wildcard in the service segment", reference_policies_elements_resource.html)
// or upper case in the partition or service (they are lower-case names).
// It returns "" for a valid one.
func invalidARN(r string) string {
	seg := strings.SplitN(r, ":", 4)
	if len(seg) < 3 || seg[0] != "arn" && !strings.EqualFold(seg[0], "arn") {
		return ""
	}
	switch {
	case seg[0] != "arn":
		return "the ARN prefix is not lower case"
	case strings.ContainsAny(seg[2], "*?"):
		return "a wildcard in the service segment"
	case seg[1] != strings.ToLower(seg[1]):
		return "an upper-case partition"
	case seg[2] != strings.ToLower(seg[2]):
		return "an upper-case service name"
	}
	return ""
}

// foldARNPrefix lower-cases the first three segments (arn, partition,
// service): how an invalid ARN with upper case there is matched.
func foldARNPrefix(s string) string {
	end, colons := len(s), 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if colons++; colons == 3 {
				end = i
				break
			}
		}
	}
	prefix := s[:end]
	if lower := strings.ToLower(prefix); lower != prefix {
		return lower + s[end:]
	}
	return s
}
