package rules

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// secretLooking reports whether a container environment variable looks like
// it holds a secret (TD-014) and why. The why names the kind of match, never
// the value: when a value happens to occur in the chosen phrase, a vaguer
// one ("name suggests a secret", "value matches a secret pattern") or the
// terse "secret" is returned instead.
//
// The value decides first, whatever the name: AWS access key ids, PEM private
// keys, GitHub, GitLab, Slack, Stripe, Google and npm tokens, JWTs, HTTP
// authorization credentials, Slack and Discord webhook URLs, URLs with a
// password or a credential query parameter, connection strings and DSNs with
// a password.
//
// Otherwise the name decides, unless the value is empty, a placeholder
// ("${DB_PASSWORD}", "<token>", "***"; a weak real value such as "password"
// or "changeme" is not one), a reference (an ARN, a URL without credentials,
// a file path) or a flag or number ("true", "off", "12"). The name is split into upper-case words at "_", "-",
// "." and camelCase boundaries. It looks secret when a word is, or ends with,
// PASSWORD, PASSWD, PASSPHRASE, SECRET(S), TOKEN(S), CREDENTIAL(S), CREDS, or
// when it holds API KEY, PRIVATE KEY, ACCESS KEY, SECRET KEY, or a SIGNING,
// ENCRYPTION, MASTER, LICENSE, HMAC, SSH, APP or JWT KEY. The weaker words
// PASS, PWD and AUTH count only for a value shaped like a credential (eight
// or more characters mixing letter cases, digits or symbols), so AUTH=required
// and PWD=/app pass.
//
// A name whose last word says it holds something other than the secret
// itself passes: a reference (_ARN, _ID, _NAME, _PATH, _FILE, _URL, _HOST,
// _PARAM...) or a setting (_REGION, _ENABLED, _TTL, _LENGTH, _MIN, _TIMEOUT,
// _TYPE, _MODE, _PROVIDER, _HEADER...). A URL that carries credentials is
// still caught by its value.
//
// ACCESS_KEY_ID is flagged although it ends in _ID: an access key id is half
// of a long-term credential pair, whose other half is almost always next to
// it, and it identifies the IAM user and account. Other _ID names (SECRET_ID,
// KMS_KEY_ID, CLIENT_ID) are references and pass.
func secretLooking(name, value string) (why string, ok bool) {
	why, ok = secretLookingWhy(name, value)
	if !ok || len(value) < 8 {
		return why, ok
	}
	// Fall back to a vaguer phrase, then to one too short to hold the value.
	for _, alt := range []string{why, "name suggests a secret", "value matches a secret pattern"} {
		if strings.HasPrefix(alt, why[:4]) && !strings.Contains(alt, value) {
			return alt, true
		}
	}
	return "secret", true
}

func secretLookingWhy(name, value string) (string, bool) {
	words := nameWords(name)
	v := strings.TrimSpace(value)
	if v == "" {
		return "", false
	}
	if why, ok := secretValueKind(v, words); ok {
		return why, true
	}
	if inertValue(v) {
		return "", false
	}
	why, weak, ok := secretNameKind(words)
	if !ok || weak && !credentialShaped(v) {
		return "", false
	}
	return why, true
}

// Value patterns that are secrets whatever the variable is called. Each
// regexp sits behind the cheapest test that every string it matches passes.
var secretValuePatterns = []struct {
	re  guardedRegexp
	why string
}{
	{guard(27, containsAny("-----BEGIN "), `-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`), "value looks like a private key"},
	{guard(20, containsAny("AKIA", "ASIA"), `(?:^|[^A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?:$|[^A-Za-z0-9])`), "value looks like an AWS access key id"},
	{guard(34, containsAny("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), `(?:^|[^A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`), "value looks like a GitHub token"},
	{guard(26, containsAny("glpat-"), `(?:^|[^A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}`), "value looks like a GitLab token"},
	{guard(15, containsAny("xox"), `(?:^|[^A-Za-z0-9_])xox[baprs]-[A-Za-z0-9-]{10,}`), "value looks like a Slack token"},
	{guard(24, containsAny("k_live_"), `(?:^|[^A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{16,}`), "value looks like a Stripe live key"},
	{guard(39, containsAny("AIza"), `(?:^|[^A-Za-z0-9_])AIza[0-9A-Za-z_-]{35}`), "value looks like a Google API key"},
	{guard(40, containsAny("npm_"), `(?:^|[^A-Za-z0-9_])npm_[A-Za-z0-9]{36}`), "value looks like an npm token"},
	{guard(16, containsAny("eyJ"), `(?:^|[^A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), "value looks like a JWT"},
	// Under (?i), b and t fold only to B and T (k and s also fold to
	// non-ASCII runes, but never come first).
	{guard(22, firstByteIn("bBtT"), `(?i)^(?:bearer|basic|token)\s+[A-Za-z0-9._~+/-]{16,}=*$`), "value looks like an HTTP authorization credential"},
	{guard(49, hasPrefix("https://hooks.slack.com/", ""), `^https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{16,}`), "value looks like a Slack webhook URL"},
	{guard(51, hasPrefix("https://", "discord"), `^https://(?:[a-z]+\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]{16,}`), "value looks like a Discord webhook URL"},
	{guard(8, containsAny("@tcp(", "@unix(", "@udp("), `^[^\s:/@()]+:[^\s@]+@(?:tcp|unix|udp)\(`), "value looks like a DSN with a password"},
}

var (
	// urlUserinfo matches scheme://user:password@ anywhere in a value.
	urlUserinfo = guard(7, func(s string) bool {
		// Every match has an '@' after the first "://", which may itself
		// start the value: "://x a://u:p@h".
		i := strings.Index(s, "://")
		return i >= 0 && strings.IndexByte(s[i+3:], '@') >= 0
	}, `[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@`)
	// connPassword matches the password of a key=value connection string
	// ("Server=db;Password=x;", "host=db password=x").
	connPassword = guard(5, containsAny("="), `(?i)(?:^|[;\s])(?:password|pwd)\s*=\s*([^;\s]+)`)
	// dsnUserinfo matches user:password@host, judged only under a DSN-like name.
	dsnUserinfo = guard(5, containsAny("@"), `^[^\s:/@]+:([^\s@]+)@[^\s@]`)
)

// A guardedRegexp is a regexp behind a cheap byte-level test that every
// string it matches passes: a minimum length, and a literal it needs or a
// first byte. TD-014 puts every environment value through up to 18
// regexps, which took most of the time of rules.Evaluate; the guards turn
// almost every value away before any regexp runs. The tests check each
// guard against its regexp alone (FuzzSecretLooking) and each minLen against
// the regexp's syntax.
type guardedRegexp struct {
	minLen int                 // the length in bytes of the shortest match
	could  func(s string) bool // false only when re cannot match s
	re     *regexp.Regexp
}

func guard(minLen int, could func(string) bool, expr string) guardedRegexp {
	return guardedRegexp{minLen, could, regexp.MustCompile(expr)}
}

func (g guardedRegexp) pass(s string) bool { return len(s) >= g.minLen && g.could(s) }

func (g guardedRegexp) MatchString(s string) bool {
	return g.pass(s) && g.re.MatchString(s)
}

func (g guardedRegexp) FindStringSubmatch(s string) []string {
	if !g.pass(s) {
		return nil
	}
	return g.re.FindStringSubmatch(s)
}

func (g guardedRegexp) FindAllStringSubmatch(s string, n int) [][]string {
	if !g.pass(s) {
		return nil
	}
	return g.re.FindAllStringSubmatch(s, n)
}

// containsAny guards a regexp whose every match holds one of lits.
func containsAny(lits ...string) func(string) bool {
	return func(s string) bool {
		for _, l := range lits {
			if strings.Contains(s, l) {
				return true
			}
		}
		return false
	}
}

// firstByteIn guards a regexp anchored at the start whose every match
// starts with one of the bytes of first.
func firstByteIn(first string) func(string) bool {
	return func(s string) bool {
		return s != "" && strings.IndexByte(first, s[0]) >= 0
	}
}

// hasPrefix guards a regexp anchored at the start whose every match starts
// with prefix and holds lit after it.
func hasPrefix(prefix, lit string) func(string) bool {
	return func(s string) bool {
		return strings.HasPrefix(s, prefix) && strings.Contains(s[len(prefix):], lit)
	}
}

// URL query parameters that carry a credential.
var credentialQueryParams = []string{
	"access_token", "api_key", "apikey", "auth", "client_secret", "key", "passwd", "password", "pwd",
	"secret", "sig", "signature", "token", "x-amz-signature", "x-goog-signature",
}

// secretValueKind recognises a value that is a secret whatever its name.
func secretValueKind(v string, words []string) (string, bool) {
	for _, p := range secretValuePatterns {
		if p.re.MatchString(v) {
			return p.why, true
		}
	}
	for _, m := range urlUserinfo.FindAllStringSubmatch(v, -1) {
		if !placeholder(m[1]) {
			return "value is a URL with a password", true
		}
	}
	if m := connPassword.FindStringSubmatch(v); m != nil && !placeholder(m[1]) {
		return "value is a connection string with a password", true
	}
	if dsnName(words) && !strings.Contains(v, "://") {
		if m := dsnUserinfo.FindStringSubmatch(v); m != nil && !placeholder(m[1]) {
			return "value looks like a DSN with a password", true
		}
	}
	if strings.Contains(v, "://") && strings.Contains(v, "?") {
		if u, err := url.Parse(v); err == nil {
			for k, vals := range u.Query() {
				if slices.Contains(credentialQueryParams, strings.ToLower(k)) && slices.ContainsFunc(vals, func(s string) bool {
					return strings.TrimSpace(s) != "" && !placeholder(s)
				}) {
					return "value is a URL with a credential in its query", true
				}
			}
		}
	}
	return "", false
}

// dsnName reports whether a name says it holds a DSN or connection string.
func dsnName(words []string) bool {
	for _, w := range words {
		switch w {
		case "DSN", "CONN", "CONNSTR", "CONNECTION", "CONNECTIONSTRING", "DATABASE", "DB":
			return true
		}
	}
	return false
}

var (
	placeholderWords = []string{
		"none", "null", "nil", "undefined", "unset", "placeholder", "dummy", "redacted", "todo", "tbd",
		"n/a", "na", "example", "your-password", "your-token", "your-secret", "your_password", "your_token",
		"your_secret",
	}
	inertWords = []string{"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "enable", "disable"}
	// templateRef matches ${VAR}, $VAR, {{ .x }}, <placeholder>, %VAR%.
	templateRef = guard(2, firstByteIn("${<%"), `^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*\}\}|<[^<>]*>|%[A-Za-z_][A-Za-z0-9_]*%)$`)
	// filePath matches an absolute or relative path of plain characters.
	filePath = guard(2, firstByteIn("./~"), `^(?:\.{1,2}|~)?/[A-Za-z0-9._/-]+$`)
)

// placeholder reports whether s stands for a value rather than being one.
func placeholder(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || templateRef.MatchString(s) || slices.Contains(placeholderWords, strings.ToLower(s)) {
		return true
	}
	if strings.Contains(s, "${") || strings.Contains(s, "{{") {
		return true // partly templated: "${USER}:${PASS}"
	}
	// One character repeated: "***", "xxxxxxxx", "----".
	first := s[0]
	if strings.IndexByte("*xX.#-_?", first) < 0 {
		return false
	}
	return strings.Count(s, string(first)) == len(s)
}

// inertValue reports whether a value cannot be a secret: a placeholder, a
// reference (ARN, URL without credentials, file path), a flag or a number.
func inertValue(v string) bool {
	if placeholder(v) || slices.Contains(inertWords, strings.ToLower(v)) {
		return true
	}
	if strings.HasPrefix(strings.ToLower(v), "arn:") {
		return true
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return true
	}
	if filePath.MatchString(v) {
		return true
	}
	// A URL (credentials were caught earlier).
	if i := strings.Index(v, "://"); i > 0 && !strings.ContainsAny(v, " \t\n") {
		scheme := v[:i]
		return strings.IndexFunc(scheme, func(r rune) bool {
			return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '+' || r == '.' || r == '-'))
		}) < 0
	}
	return false
}

// credentialShaped reports whether a value looks like a credential rather
// than a word: eight or more characters, no blanks, and at least two of
// lower case, upper case, digits and symbols.
func credentialShaped(v string) bool {
	if len(v) < 8 || strings.ContainsAny(v, " \t\n") {
		return false
	}
	var lower, upper, digit, symbol int
	for _, r := range v {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			symbol = 1
		}
	}
	return lower+upper+digit+symbol >= 2
}

// nonSecretLastWords end names that hold a reference to a secret or a
// setting about it, not the secret.
var nonSecretLastWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		ARN ARNS ID IDS NAME NAMES KEYNAME PATH PATHS FILE FILES FILENAME DIR DIRECTORY FOLDER LOCATION
		URL URLS URI URIS ENDPOINT ENDPOINTS HOST HOSTNAME PORT ADDR ADDRESS DOMAIN REGION BUCKET TABLE QUEUE TOPIC
		PARAM PARAMS PARAMETER REF REFERENCE ALIAS FIELD HEADER COOKIE LABEL TAG
		ENABLED DISABLED ENABLE DISABLE REQUIRED OPTIONAL
		TTL LENGTH LEN MIN MAX MINIMUM MAXIMUM COUNT SIZE LIMIT TIMEOUT INTERVAL EXPIRY EXPIRES EXPIRATION EXPIRE
		LIFETIME AGE DURATION SECONDS SECS MS MILLIS MINUTES MINS HOURS DAYS RETRIES ATTEMPTS
		TYPE KIND MODE METHOD METHODS PROVIDER BACKEND STORE MANAGER SOURCE ENGINE SERVICE STRATEGY
		ALGORITHM ALGO ALG ISSUER AUDIENCE SCOPE SCOPES VERSION POLICY FORMAT PREFIX SUFFIX ENCODING
		ROTATION LEVEL STRENGTH COMPLEXITY PATTERN REGEX CHARS CHARSET
		USER USERNAME LOGIN EMAIL ROLE ACCOUNT PRINCIPAL
	`) {
		nonSecretLastWords[w] = true
	}
}

// keyQualifiers make "<qualifier> KEY" a secret key.
var keyQualifiers = []string{"SECRET", "SIGNING", "ENCRYPTION", "ENCRYPT", "MASTER", "LICENSE", "HMAC", "SSH", "APP", "JWT"}

// secretNameKind judges a name split into words. weak means the match is on
// PASS, PWD or AUTH alone.
func secretNameKind(words []string) (why string, weak, ok bool) {
	n := len(words)
	if n == 0 {
		return "", false, false
	}
	last := words[n-1]
	// ACCESS_KEY_ID, AccessKeyId, ACCESSKEYID: flagged despite the _ID.
	if strings.HasSuffix(last, "ACCESSKEYID") ||
		last == "ID" && n >= 2 && (strings.HasSuffix(words[n-2], "ACCESSKEY") || n >= 3 && words[n-3] == "ACCESS" && words[n-2] == "KEY") {
		return "name looks like an access key id", false, true
	}
	if nonSecretLastWords[last] {
		return "", false, false
	}
	const (
		privateKey = iota
		accessKey
		password
		apiKey
		token
		secret
		credential
		otherKey
		weakPassword
		weakAuth
		kinds
	)
	reasons := [kinds]string{
		privateKey:   "name looks like a private key",
		accessKey:    "name looks like an access key",
		password:     "name looks like a password",
		apiKey:       "name looks like an API key",
		token:        "name looks like a token",
		secret:       "name looks like a secret",
		credential:   "name looks like a credential",
		otherKey:     "name looks like a secret key",
		weakPassword: "name looks like a password",
		weakAuth:     "name looks like an authentication credential",
	}
	best := kinds
	hit := func(k int) {
		if k < best {
			best = k
		}
	}
	suffixed := func(w string, ends ...string) bool {
		for _, e := range ends {
			if strings.HasSuffix(w, e) {
				return true
			}
		}
		return false
	}
	for i, w := range words {
		next := ""
		if i+1 < n {
			next = words[i+1]
		}
		switch {
		case suffixed(w, "PRIVATEKEY"), w == "PRIVATE" && next == "KEY":
			hit(privateKey)
		case suffixed(w, "ACCESSKEY"), w == "ACCESS" && next == "KEY":
			hit(accessKey)
		case suffixed(w, "APIKEY"), w == "API" && next == "KEY":
			hit(apiKey)
		case suffixed(w, "SECRETKEY"), slices.Contains(keyQualifiers, w) && next == "KEY":
			hit(otherKey)
		case suffixed(w, "PASSWORD", "PASSWD", "PASSPHRASE", "PASSWORDS"):
			hit(password)
		case suffixed(w, "TOKEN", "TOKENS"):
			hit(token)
		case suffixed(w, "SECRET", "SECRETS"):
			hit(secret)
		case suffixed(w, "CREDENTIAL", "CREDENTIALS") || w == "CREDS":
			hit(credential)
		case w == "PASS" || w == "PWD":
			hit(weakPassword)
		case w == "AUTH":
			hit(weakAuth)
		}
	}
	if best == kinds {
		return "", false, false
	}
	return reasons[best], best >= weakPassword, true
}

// nameWords splits an environment variable name into upper-case words at
// non-alphanumeric characters and camelCase boundaries: "dbPassword" and
// "DB_PASSWORD" give [DB PASSWORD], "APIKey" gives [API KEY].
func nameWords(name string) []string {
	var words []string
	for _, part := range strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		rs := []rune(part)
		start := 0
		for i := 1; i < len(rs); i++ {
			prev, cur := rs[i-1], rs[i]
			boundary := unicode.IsUpper(cur) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) ||
				unicode.IsUpper(prev) && unicode.IsUpper(cur) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if boundary {
				words = append(words, strings.ToUpper(string(rs[start:i])))
				start = i
			}
		}
		words = append(words, strings.ToUpper(string(rs[start:])))
	}
	return words
}
