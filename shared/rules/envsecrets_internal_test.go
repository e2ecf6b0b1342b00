package rules

import (
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Token-shaped test values are assembled at run time so that secret
// scanners do not mistake this file for a leak.
var (
	esAWSKeyID   = "AKIA" + "IOSFODNN7EXAMPLE"
	esSTSKeyID   = "ASIA" + "ZZZZ1234ABCD5678"
	esGitHub     = "gh" + "p_" + strings.Repeat("a1B2c3", 6)
	esGitHubOAu  = "gh" + "o_" + strings.Repeat("Z9y8X7", 6)
	esGitHubPAT  = "github" + "_pat_" + strings.Repeat("11AB", 8) + "_" + strings.Repeat("cd34", 8)
	esGitLab     = "gl" + "pat-" + strings.Repeat("x1Y2", 5)
	esSlack      = "xo" + "xb-" + "123456789012-1234567890123-" + strings.Repeat("Ab1", 8)
	esStripe     = "sk" + "_live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 1)
	esGoogle     = "AI" + "za" + strings.Repeat("Sy", 17) + "A"
	esNPM        = "np" + "m_" + strings.Repeat("abcDEF123456", 3)
	esJWT        = "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	esPEM        = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
	esOpenSSH    = "-----BEGIN " + "OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA"
	esSlackHook  = "https://hooks.slack.com/" + "services/T00000000/B00000000/" + strings.Repeat("X", 24)
	esSecretKey  = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
	esBearer     = "Bearer " + strings.Repeat("abcDEF123_", 3)
	esPresigned  = "https://bucket.s3.amazonaws.com/k.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=" + strings.Repeat("0f", 32)
	esSecretARN  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf"
	esParamARN   = "arn:aws:ssm:us-east-1:111122223333:parameter/prod/db/password"
	esDiscordURL = "https://discord.com/api/webhooks/123456789012345678/" + strings.Repeat("aB3_", 10)
)

func TestSecretLooking(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // the why; "" means not flagged
	}{
		// Names.
		{"DB_PASSWORD", "hunter2", "name looks like a password"},
		{"POSTGRES_PASSWORD", "password", "name suggests a secret"}, // the usual phrase would hold the value
		{"DB_PASSWORD", "changeme", "name looks like a password"},
		{"dbPassword", "S3cr3t!", "name looks like a password"},
		{"mysqlpassword", "abc", "name looks like a password"},
		{"LDAP_BIND_PASSWD", "b1nd-pw", "name looks like a password"},
		{"GPG_PASSPHRASE", "correct horse battery staple", "name looks like a password"},
		{"JWT_SECRET", "my-long-signing-secret", "name looks like a secret"},
		{"OAUTH_CLIENT_SECRET", "abc123def456", "name looks like a secret"},
		{"clientSecret", "abc123def456", "name looks like a secret"},
		{"GITHUB_TOKEN", "not-a-real-format", "name looks like a token"},
		{"AWS_SESSION_TOKEN", "FwoGZXIvYXdzEBYaDH", "name looks like a token"},
		{"API_KEY", "abc123", "name looks like an API key"},
		{"SENDGRID_APIKEY", "abc123", "name looks like an API key"},
		{"StripeApiKey", "abc123", "name looks like an API key"},
		{"AWS_SECRET_ACCESS_KEY", esSecretKey, "name looks like an access key"},
		{"MINIO_ACCESS_KEY_ID", "minioadmin", "name looks like an access key id"},
		{"AccessKeyId", "minioadmin", "name looks like an access key id"},
		{"TLS_PRIVATE_KEY", "base64:AAAA", "name looks like a private key"},
		{"SECRET_KEY_BASE", "a1b2c3d4", "name looks like a secret key"},
		{"SIGNING_KEY", "a1b2c3d4", "name looks like a secret key"},
		{"DOCKER_CREDENTIALS", "user:pass", "name looks like a credential"},
		{"REGISTRY_CREDS", "user:pass", "name looks like a credential"},
		{"SMTP_PASS", "Tr0ub4dor", "name looks like a password"},
		{"REDIS_AUTH", "Xk9fP2qLm", "name looks like an authentication credential"},
		{"DB_PASSWORD_PROD", "hunter2", "name looks like a password"},
		// Values, whatever the name.
		{"AWS_ACCESS_KEY_ID", esAWSKeyID, "value looks like an AWS access key id"},
		{"SOME_SETTING", esSTSKeyID, "value looks like an AWS access key id"},
		{"SECRET_ARN", esAWSKeyID, "value looks like an AWS access key id"},
		{"CERT", esPEM, "value looks like a private key"},
		{"NOTES", esOpenSSH, "value looks like a private key"},
		{"CI", esGitHub, "value looks like a GitHub token"},
		{"CI", esGitHubOAu, "value looks like a GitHub token"},
		{"CI", esGitHubPAT, "value looks like a GitHub token"},
		{"CI", esGitLab, "value looks like a GitLab token"},
		{"NOTIFY", esSlack, "value looks like a Slack token"},
		{"PAYMENTS", esStripe, "value looks like a Stripe live key"},
		{"MAPS", esGoogle, "value looks like a Google API key"},
		{"NPMRC", esNPM, "value looks like an npm token"},
		{"SESSION", esJWT, "value looks like a JWT"},
		{"AUTH_HEADER", esBearer, "value looks like an HTTP authorization credential"},
		{"ALERTS_WEBHOOK_URL", esSlackHook, "value looks like a Slack webhook URL"},
		{"DISCORD_WEBHOOK_URL", esDiscordURL, "value looks like a Discord webhook URL"},
		{"DATABASE_URL", "postgres://app:s3cret@db.internal:5432/app", "value is a URL with a password"},
		{"TOKEN_URL", "https://client:pw@auth.example.com/token", "value is a URL with a password"},
		{"REDIS_URL", "redis://:s3cret@cache:6379/0", "value is a URL with a password"},
		{"MYSQL_DSN", "app:pw@tcp(db:3306)/app", "value looks like a DSN with a password"},
		{"DB_DSN", "app:pw@db.internal/app", "value looks like a DSN with a password"},
		{"CONNECTION", "Server=db;User Id=sa;Password=P@ssw0rd;", "value is a connection string with a password"},
		{"PG_CONN", "host=db user=app password=s3cret dbname=app", "value is a connection string with a password"},
		{"EXPORT_TARGET", esPresigned, "value is a URL with a credential in its query"},
		{"FEED", "https://api.example.com/feed?format=json&api_key=abc123", "value is a URL with a credential in its query"},
		// Matches the guards must not turn away.
		{"NOTES", "://x then https://app:s3cret@db.internal/app", "value is a URL with a password"},
		{"AUTH_HEADER", "To\u212Aen " + strings.Repeat("abcDEF123_", 2), "value looks like an HTTP authorization credential"},
		{"PG_CONN", "host=db pa\u017F\u017Fword=s3cret", "value is a connection string with a password"},

		// Not secrets: references, settings, placeholders, flags and numbers.
		{"TOKEN_URL", "https://auth.example.com/oauth/token", ""},
		{"TOKEN_ENDPOINT", "https://auth.example.com/oauth/token", ""},
		{"SECRET_ARN", esSecretARN, ""},
		{"DB_PASSWORD_PARAM", esParamARN, ""},
		{"DB_PASSWORD", esParamARN, ""},
		{"PASSWORD_MIN_LENGTH", "12", ""},
		{"AWS_REGION", "us-east-1", ""},
		{"DB_HOST", "db.internal", ""},
		{"DB_PASSWORD", "", ""},
		{"DB_PASSWORD", "   ", ""},
		{"DB_PASSWORD", "${DB_PASSWORD}", ""},
		{"DB_PASSWORD", "$DB_PASSWORD", ""},
		{"API_TOKEN", "<your-token>", ""},
		{"API_TOKEN", "{{ .Token }}", ""},
		{"PASSWORD", "***", ""},
		{"PASSWORD", "xxxxxxxx", ""},
		{"API_KEY", "changeme-${ENV}", ""},
		{"SECRET", "REDACTED", ""},
		{"SECRET_ID", "prod/db", ""},
		{"SECRET_NAME", "prod/db", ""},
		{"KMS_KEY_ID", "alias/app", ""},
		{"API_KEY_ID", "k-123456", ""},
		{"CLIENT_ID", "abc123def456", ""},
		{"DB_PASSWORD_FILE", "/run/secrets/db_password", ""},
		{"GOOGLE_APPLICATION_CREDENTIALS", "/secrets/gcp.json", ""},
		{"PWD", "/app", ""},
		{"AUTH", "required", ""},
		{"AUTH", "oauth2", ""},
		{"AUTH_ENABLED", "true", ""},
		{"AUTH_MODE", "oauth", ""},
		{"PASSWORD_POLICY", "strict", ""},
		{"SECRETS_PROVIDER", "aws", ""},
		{"TOKEN_TTL", "3600", ""},
		{"TOKEN_EXPIRY", "1h", ""},
		{"JWT_ISSUER", "https://issuer.example.com", ""},
		{"SESSION_COOKIE_NAME", "sid", ""},
		{"MAX_TOKENS", "4096", ""},
		{"TOKENIZERS_PARALLELISM", "false", ""},
		{"TOKENIZER", "bert-base-uncased", ""},
		{"USE_SECRETS", "yes", ""},
		{"DATABASE_URL", "postgres://db.internal:5432/app", ""},
		{"DATABASE_URL", "postgres://app:${DB_PASSWORD}@db.internal:5432/app", ""},
		{"DATABASE_URL", "postgres://app@db.internal:5432/app", ""},
		{"SIDECAR_IMAGE", "nginx:1.25@sha256:0123456789abcdef", ""},
		{"AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/app", ""},
		{"NODE_ENV", "production", ""},
		{"LOG_LEVEL", "debug", ""},
		{"KEYCLOAK_REALM", "main", ""},
		{"PASSWORD_RESET_ENABLED", "on", ""},
		{"AWS_ACCESS_KEY_ID", "", ""},
		{"FEED", "https://api.example.com/feed?format=json&page=2", ""},
		{"FEED", "https://api.example.com/feed?token=", ""},
	}
	var pos, neg int
	for _, tt := range tests {
		why, ok := secretLooking(tt.name, tt.value)
		if ok != (tt.want != "") || why != tt.want {
			t.Errorf("secretLooking(%q, %q) = %q, %v; want %q", tt.name, tt.value, why, ok, tt.want)
		}
		if tt.value != "" && strings.Contains(why, tt.value) {
			t.Errorf("secretLooking(%q, %q): why %q holds the value", tt.name, tt.value, why)
		}
		if tt.want != "" {
			pos++
		} else {
			neg++
		}
	}
	if pos < 15 || neg < 15 {
		t.Errorf("%d positive and %d negative cases, want at least 15 of each", pos, neg)
	}
}

// A value that happens to be part of the phrase that would explain it gets
// a vaguer phrase instead.
func TestSecretLookingNeverEchoesTheValue(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"DB_PASSWORD", "name looks like a password", "name suggests a secret"},
		{"DB_PASSWORD", "like a password", "name suggests a secret"},
		{"DB_PASSWORD", "name looks like a", "name suggests a secret"},
		{"CI", "value looks like a GitHub token " + esGitHub, "value looks like a GitHub token"},
		{"CI", esGitHub + " value looks like a GitHub token", "value looks like a GitHub token"},
		{"DB_PASSWORD", "suggests", "name looks like a password"},
		{"API_TOKEN", "name suggests a secret", "name looks like a token"},
		{"DB_PASSWORD", "short", "name looks like a password"},
	}
	for _, tt := range tests {
		why, ok := secretLooking(tt.name, tt.value)
		if !ok || why != tt.want {
			t.Errorf("secretLooking(%q, %q) = %q, %v; want %q, true", tt.name, tt.value, why, ok, tt.want)
		}
	}
}

func TestSecretLookingNameWords(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"DB_PASSWORD", []string{"DB", "PASSWORD"}},
		{"dbPassword", []string{"DB", "PASSWORD"}},
		{"APIKey", []string{"API", "KEY"}},
		{"AccessKeyId", []string{"ACCESS", "KEY", "ID"}},
		{"s3.secret-key", []string{"S3", "SECRET", "KEY"}},
		{"S3Secret", []string{"S3", "SECRET"}},
		{"__", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := nameWords(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("nameWords(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

type namedGuard struct {
	name string
	g    guardedRegexp
}

// guardedRegexps lists every guarded regexp of TD-014, named by the why of
// its value pattern or by its variable.
func guardedRegexps() []namedGuard {
	gs := []namedGuard{
		{"urlUserinfo", urlUserinfo}, {"connPassword", connPassword}, {"dsnUserinfo", dsnUserinfo},
		{"templateRef", templateRef}, {"filePath", filePath},
	}
	for _, p := range secretValuePatterns {
		gs = append(gs, namedGuard{p.why, p.re})
	}
	return gs
}

// Each regexp's shortest matches and near misses, built at run time for the
// scanners: a guard must let the matches through, and the regexp alone must
// agree with the table.
func guardedBoundaries() map[string]struct{ matches, misses []string } {
	var (
		aws16    = "IOSFODNN7EXAMPLE"
		gh30     = strings.Repeat("a1B2c3", 5)
		gl20     = strings.Repeat("x1Y2", 5)
		stripe16 = "4eC39HqLyjWDarjt"
		google35 = strings.Repeat("Sy", 17) + "A"
		npm36    = strings.Repeat("abcDEF123456", 3)
		auth16   = "abcDEF123_~+/-.x"
		hook16   = strings.Repeat("X", 16)
		disc16   = strings.Repeat("aB3_", 4)
		pem      = "-----BEGIN "
		slack    = "https://hooks.slack.com/"
		discord  = "https://discord.com/api/" + "webhooks/1/"
	)
	return map[string]struct{ matches, misses []string }{
		"value looks like a private key": {
			[]string{pem + "PRIVATE KEY-----", "x" + pem + "RSA PRIVATE KEY BLOCK-----x"},
			[]string{pem + "PRIVATE KEY----", "----BEGIN PRIVATE KEY-----", pem + "rsa PRIVATE KEY-----"},
		},
		"value looks like an AWS access key id": {
			[]string{"AKIA" + aws16, "ASIA" + aws16, "x-" + "AKIA" + aws16 + "/y"},
			[]string{"AKIA" + aws16[:15], "AKIA" + aws16 + "Z", "Z" + "AKIA" + aws16, "akia" + aws16, "AKIB" + aws16},
		},
		"value looks like a GitHub token": {
			[]string{"gh" + "p_" + gh30, "gh" + "r_" + gh30, "x/" + "gh" + "s_" + gh30, "github" + "_pat_" + gh30},
			[]string{"gh" + "p_" + gh30[:29], "gh" + "x_" + gh30, "_gh" + "p_" + gh30, "Agh" + "o_" + gh30, "github" + "_pat_" + gh30[:29]},
		},
		"value looks like a GitLab token": {
			[]string{"gl" + "pat-" + gl20, "gl" + "pat-" + "a_b-" + gl20[:16]},
			[]string{"gl" + "pat-" + gl20[:19], "GL" + "PAT-" + gl20, "_gl" + "pat-" + gl20},
		},
		"value looks like a Slack token": {
			[]string{"xo" + "xb-" + "1234567890", "xo" + "xs-" + "12-45-7890"},
			[]string{"xo" + "xb-" + "123456789", "xo" + "xz-" + "1234567890", "axo" + "xb-" + "1234567890"},
		},
		"value looks like a Stripe live key": {
			[]string{"sk" + "_live_" + stripe16, "rk" + "_live_" + stripe16},
			[]string{"sk" + "_live_" + stripe16[:15], "sk" + "_test_" + stripe16, "pk" + "_live_" + stripe16, "_sk" + "_live_" + stripe16},
		},
		"value looks like a Google API key": {
			[]string{"AI" + "za" + google35, " AI" + "za" + google35},
			[]string{"AI" + "za" + google35[:34], "AI" + "ZA" + google35, "xAI" + "za" + google35},
		},
		"value looks like an npm token": {
			[]string{"np" + "m_" + npm36},
			[]string{"np" + "m_" + npm36[:35], "NP" + "M_" + npm36, "_np" + "m_" + npm36},
		},
		"value looks like a JWT": {
			[]string{"ey" + "J1234567.abcd.", "ey" + "JhbGciOiJI.eyJz.sig"},
			[]string{"ey" + "J123456.abcd.", "ey" + "J1234567.abc.", "ey" + "J1234567.abcd", "-ey" + "J1234567.abcd.", "EY" + "J1234567.abcd."},
		},
		"value looks like an HTTP authorization credential": {
			[]string{"basic " + auth16, "Bearer " + auth16, "TOKEN\t" + auth16 + "==", "bearer\n" + auth16,
				"to\u212Aen " + auth16, "ba\u017Fic " + auth16}, // KELVIN SIGN and LONG S fold to k and s
			[]string{"basic " + auth16[:15], "xbasic " + auth16, "basic" + auth16, "basic " + auth16 + " x", "digest " + auth16},
		},
		"value looks like a Slack webhook URL": {
			[]string{slack + "services/" + hook16, slack + "workflows/" + hook16},
			[]string{slack + "services/" + hook16[:15], "http://hooks.slack.com/services/" + hook16 + "X", slack + "other/" + hook16 + "XX"},
		},
		"value looks like a Discord webhook URL": {
			[]string{discord + disc16, "https://canary.discordapp.com/api/" + "webhooks/12/" + disc16},
			[]string{discord + disc16[:15], "https://Discord.com/api/" + "webhooks/1/" + disc16, "http" + discord[5:] + disc16 + "x"},
		},
		"value looks like a DSN with a password": {
			[]string{"u:p@tcp(", "app:pw@unix(/tmp/s)", "u:p@udp(x"},
			[]string{"u:p@tcp", "u:@tcp(x", "u p:x@tcp(", "u:p@TCP("},
		},
		"urlUserinfo": {
			[]string{"a://:p@", "://x a://u:p@h", "://@ a://u:p@h", "x ://a b+c://u:p@h"},
			[]string{"a://:@", "a://u@h", "a://u:p/x@h", "1://u:p@h"},
		},
		"connPassword": {
			[]string{"pwd=x", "PaSsWoRd = x", "pa\u017F\u017Fword=x", "a;pwd=x", "a\tPWD=x"},
			[]string{"pwd=", "xpwd=x", "pwd x", "password=;"},
		},
		"dsnUserinfo": {
			[]string{"u:p@h", "app:s3cret@db:5432/x"},
			[]string{"u:p@", "u@h:p", "u:p@ h", ":p@h"},
		},
		"templateRef": {
			[]string{"$A", "${}", "<>", "{{}}", "%A%", "{{ .Token }}"},
			[]string{"$", "A$B", "{{x}", "$1", " ${A}"},
		},
		"filePath": {
			[]string{"/a", "./a", "../a", "~/a"},
			[]string{"/", "a/b", ".../a", "/a b"},
		},
	}
}

func TestGuardedRegexpBoundaries(t *testing.T) {
	cases := guardedBoundaries()
	for _, gr := range guardedRegexps() {
		c, ok := cases[gr.name]
		if !ok {
			t.Errorf("%s: no boundary cases", gr.name)
			continue
		}
		for _, want := range []bool{true, false} {
			ss := c.matches
			if !want {
				ss = c.misses
			}
			for _, s := range ss {
				if got := gr.g.re.MatchString(s); got != want {
					t.Errorf("%s: regexp matches %q = %v, want %v", gr.name, s, got, want)
				}
				if got := gr.g.MatchString(s); got != want {
					t.Errorf("%s: guarded regexp matches %q = %v, want %v", gr.name, s, got, want)
				}
			}
		}
		shortest := len(c.matches[0])
		for _, s := range c.matches {
			shortest = min(shortest, len(s))
		}
		if shortest != gr.g.minLen {
			t.Errorf("%s: shortest match in the table has %d bytes, want the guard's minLen %d", gr.name, shortest, gr.g.minLen)
		}
	}
}

// Each guard's minLen is the length of the shortest string its regexp can
// match, worked out from the regexp's syntax.
func TestGuardedRegexpMin(t *testing.T) {
	for _, gr := range guardedRegexps() {
		re, err := syntax.Parse(gr.g.re.String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := shortestMatch(re); got != gr.g.minLen {
			t.Errorf("%s: shortest match has %d bytes, minLen is %d", gr.name, got, gr.g.minLen)
		}
	}
}

// shortestMatch returns the length in bytes of the shortest string re
// matches. regexp reads an invalid byte as U+FFFD, so a class holding
// U+FFFD matches a single byte.
func shortestMatch(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			short := utf8.RuneLen(r)
			for f := unicode.SimpleFold(r); re.Flags&syntax.FoldCase != 0 && f != r; f = unicode.SimpleFold(f) {
				short = min(short, utf8.RuneLen(f))
			}
			n += short
		}
		return n
	case syntax.OpCharClass:
		for i := 0; i < len(re.Rune); i += 2 {
			if re.Rune[i] <= utf8.RuneError && utf8.RuneError <= re.Rune[i+1] {
				return 1
			}
		}
		return utf8.RuneLen(re.Rune[0])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return shortestMatch(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * shortestMatch(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, sub := range re.Sub {
			n += shortestMatch(sub)
		}
		return n
	case syntax.OpAlternate:
		n := shortestMatch(re.Sub[0])
		for _, sub := range re.Sub[1:] {
			n = min(n, shortestMatch(sub))
		}
		return n
	}
	return 0 // empty-width assertions, the empty string, * and ?
}

// FuzzSecretLooking checks secretLooking's promises and, differentially,
// each guard against its regexp alone: secretLooking reads every regexp
// through its guard, so while no guard turns away a string its regexp
// matches, its answers are those of the unguarded regexps.
func FuzzSecretLooking(f *testing.F) {
	for _, s := range [][2]string{
		{"DB_PASSWORD", "hunter2hunter2"},
		{"TOKEN_URL", "https://auth.example.com/token"},
		{"DATABASE_URL", "postgres://app:s3cret@db:5432/app"},
		{"X", esAWSKeyID},
		{"SESSION", esJWT},
		{"CERT", esPEM},
		{"PASSWORD", "name looks like a password"},
		{"dbPassword", "${DB_PASSWORD}"},
		{"FEED", esPresigned},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	for _, c := range guardedBoundaries() {
		for _, s := range slices.Concat(c.matches, c.misses) {
			f.Add("DB_DSN", s)
		}
	}
	guarded := guardedRegexps()
	f.Fuzz(func(t *testing.T, name, value string) {
		why, ok := secretLooking(name, value)
		if ok == (why == "") {
			t.Fatalf("secretLooking(%q, %q) = %q, %v: a why exactly when flagged", name, value, why, ok)
		}
		if len(value) >= 8 && strings.Contains(why, value) {
			t.Fatalf("secretLooking(%q, %q): why %q holds the value", name, value, why)
		}
		if why2, ok2 := secretLooking(name, value); why2 != why || ok2 != ok {
			t.Fatalf("secretLooking(%q, %q) not deterministic", name, value)
		}
		// No guard depends on length beyond its minLen, and a regexp scan of a
		// long input takes milliseconds, which stalls minimization.
		if len(value) > 1<<10 {
			return
		}
		for _, s := range []string{value, strings.TrimSpace(value)} {
			for _, gr := range guarded {
				if want := gr.g.re.MatchString(s); gr.g.MatchString(s) != want {
					t.Fatalf("%s: guarded regexp matches %q = %v, the regexp alone %v", gr.name, s, !want, want)
				}
			}
		}
	})
}

// BenchmarkSecretLooking: TD-014 over the environment of a typical service,
// none of it secret (the common path).
func BenchmarkSecretLooking(b *testing.B) {
	env := [][2]string{
		{"NODE_ENV", "production"}, {"PORT", "8080"}, {"LOG_LEVEL", "info"}, {"AWS_REGION", "us-east-1"},
		{"DB_HOST", "db.internal"}, {"DB_PORT", "5432"}, {"DB_NAME", "app"}, {"DB_USER", "app"},
		{"DB_PASSWORD_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/web/db-AbCdEf"},
		{"REDIS_URL", "redis://cache.internal:6379/0"}, {"JAVA_OPTS", "-Xmx512m -XX:+UseG1GC -Dfile.encoding=UTF-8"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317"}, {"API_BASE_URL", "https://api.example.com/v1"},
		{"S3_BUCKET", "web-assets"}, {"MAX_CONNECTIONS", "20"}, {"FEATURE_FLAGS", "search,checkout"},
		{"TZ", "UTC"}, {"SPRING_PROFILES_ACTIVE", "prod"}, {"CACHE_DIR", "/var/cache/app"}, {"AUTH_ENABLED", "true"},
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, kv := range env {
			if _, ok := secretLooking(kv[0], kv[1]); ok {
				b.Fatalf("%s flagged", kv[0])
			}
		}
	}
}
