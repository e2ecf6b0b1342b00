package trail_test

import (
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/trail"
)

func TestChangeCausedBy(t *testing.T) {
	t.Parallel()
	const (
		own     = "arn:aws:iam::111122223333:role/ecsguard-onregister"
		session = "arn:aws:sts::111122223333:assumed-role/ecsguard-onregister/ecsguard-onregister"
	)
	tests := []struct {
		name    string
		actor   string
		roleARN string
		want    bool
	}{
		{"same-role-arn", own, own, true},
		{"actor-role-with-path", "arn:aws:iam::111122223333:role/service-role/ecsguard-onregister", own, true},
		{"own-role-with-path", own, "arn:aws:iam::111122223333:role/ecsguard/ecsguard-onregister", true},
		{"both-with-other-paths", "arn:aws:iam::111122223333:role/a/ecsguard-onregister", "arn:aws:iam::111122223333:role/b/c/ecsguard-onregister", true},
		{"actor-session", session, own, true},
		{"own-as-session", own, session, true},
		{"both-sessions-differ", session, "arn:aws:sts::111122223333:assumed-role/ecsguard-onregister/other-session", true},
		{"session-of-role-with-path", "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123", true},
		{"name-case-differs", "arn:aws:iam::111122223333:role/ECSGuard-OnRegister", own, true},
		{"session-name-case-differs", "arn:aws:sts::111122223333:assumed-role/ECSGUARD-ONREGISTER/x", own, true},
		{"govcloud", "arn:aws-us-gov:sts::111122223333:assumed-role/ecsguard-onregister/s", "arn:aws-us-gov:iam::111122223333:role/ecsguard-onregister", true},

		{"other-role", "arn:aws:iam::111122223333:role/ci-deploy", own, false},
		{"name-prefix", "arn:aws:iam::111122223333:role/ecsguard", own, false},
		{"name-longer", "arn:aws:iam::111122223333:role/ecsguard-onregister-old", own, false},
		{"path-is-not-name", "arn:aws:iam::111122223333:role/ecsguard-onregister/x", own, false},
		{"other-account", "arn:aws:iam::444455556666:role/ecsguard-onregister", own, false},
		{"other-account-session", "arn:aws:sts::444455556666:assumed-role/ecsguard-onregister/s", own, false},
		{"other-partition", "arn:aws-cn:iam::111122223333:role/ecsguard-onregister", own, false},
		{"other-partition-session", "arn:aws-cn:sts::111122223333:assumed-role/ecsguard-onregister/s", own, false},
		{"user-of-same-name", "arn:aws:iam::111122223333:user/ecsguard-onregister", own, false},
		{"federated-user", "arn:aws:sts::111122223333:federated-user/ecsguard-onregister", own, false},
		{"root", "arn:aws:iam::111122223333:root", own, false},

		{"empty-actor", "", own, false},
		{"empty-role", own, "", false},
		{"both-empty", "", "", false},
		{"actor-not-arn", "ecsguard-onregister", own, false},
		{"own-not-arn", own, "ecsguard-onregister", false},
		{"role-without-name", "arn:aws:iam::111122223333:role/", "arn:aws:iam::111122223333:role/", true}, // the same string
		{"role-without-name-vs-own", "arn:aws:iam::111122223333:role/", own, false},
		{"role-path-without-name", "arn:aws:iam::111122223333:role/ecsguard-onregister/", own, false},
		{"session-without-session-name", "arn:aws:sts::111122223333:assumed-role/ecsguard-onregister", own, false},
		{"session-empty-session-name", "arn:aws:sts::111122223333:assumed-role/ecsguard-onregister/", own, false},
		{"session-empty-role-name", "arn:aws:sts::111122223333:assumed-role//s", own, false},
		{"role-arn-with-region", "arn:aws:iam:us-east-1:111122223333:role/ecsguard-onregister", own, false},
		{"role-arn-without-account", "arn:aws:iam:::role/ecsguard-onregister", "arn:aws:iam:::role/ecsguard-onregister/", false},
		{"role-arn-without-partition", "arn::iam::111122223333:role/ecsguard-onregister", "arn::iam::111122223333:role/x/ecsguard-onregister", false},
		{"too-few-parts", "arn:aws:iam:111122223333:role/ecsguard-onregister", own, false},
		{"not-arn-prefix", "urn:aws:iam::111122223333:role/ecsguard-onregister", own, false},
		{"assumed-role-under-iam", "arn:aws:iam::111122223333:assumed-role/ecsguard-onregister/s", own, false},
		{"role-under-sts", "arn:aws:sts::111122223333:role/ecsguard-onregister", own, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := trail.Change{Actor: tc.actor}
			if got := c.CausedBy(tc.roleARN); got != tc.want {
				t.Errorf("Change{Actor: %q}.CausedBy(%q) = %v, want %v", tc.actor, tc.roleARN, got, tc.want)
			}
			// Same role, whichever side is the actor.
			if tc.actor != "" && tc.roleARN != "" {
				c := trail.Change{Actor: tc.roleARN}
				if got := c.CausedBy(tc.actor); got != tc.want {
					t.Errorf("Change{Actor: %q}.CausedBy(%q) = %v, want %v", tc.roleARN, tc.actor, got, tc.want)
				}
			}
		})
	}
}

// TestCausedByCorpus: in the corpus, only the event made by ecsguard's own
// role is caught by the loop guard, whichever form of its ARN is configured.
func TestCausedByCorpus(t *testing.T) {
	t.Parallel()
	own := []string{
		"arn:aws:iam::111122223333:role/ecsguard-onregister",
		"arn:aws:sts::111122223333:assumed-role/ecsguard-onregister/ecsguard-onregister",
	}
	for name, b := range corpus(t) {
		c, err := trail.ParseJSON(b)
		if err != nil {
			continue
		}
		want := strings.HasSuffix(name, "-by-ecsguard.json")
		for _, arn := range own {
			if got := c.CausedBy(arn); got != want {
				t.Errorf("%s: CausedBy(%q) = %v, want %v (actor %q)", name, arn, got, want, c.Actor)
			}
		}
	}
}
