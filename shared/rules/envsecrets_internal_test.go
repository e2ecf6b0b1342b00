package rules

import (
	"slices"
	"strings"
	"testing"
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
	})
}
