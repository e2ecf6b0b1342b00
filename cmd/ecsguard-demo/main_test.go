package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/emulator"
)

// TestDemo runs what make demo runs and checks its account of the sample:
// every event handled, the four bad revisions alerted in each mode (in alert
// mode reports:1 once more, for the TagResource that exempts it without
// approvers or tags in the account), the three at HIGH or above
// deregistered in enforce mode, the others left; then three role changes
// that touch ECS alerted, and one that does not, silent; an exemption
// approved and one refused; a dry run; a role change enforced and a
// change to ecsguard's topic alerted as tampering; then a two-member
// organization: each member's bad revision deregistered in that member,
// the alerts naming the account, an outside account dropped; the
// Security Hub findings of the enforce phases, resolved when deregistered; and one
// alert of each kind as Slack and email show it.
func TestDemo(t *testing.T) {
	if _, err := os.Stat(emulator.DefaultVenv()); err != nil && os.Getenv("ECSGUARD_REQUIRE_EMULATOR") != "1" {
		t.Skip("the emulator is not installed: run make emulator-tools")
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, emulator.DefaultVenv(), emulator.DefaultRIE(), false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	const want = `{"events":42,"roleChanges":6,"findings":25,"alerts":21,"deregistered":6,"accounts":2,"securityHubFindings":8}`
	if got := lines[len(lines)-1]; got != want {
		t.Errorf("summary = %s, want %s\n%s", got, want, text)
	}
	for _, s := range []string{
		"billing:1        INACTIVE", "payments:1       INACTIVE", "reports:1        INACTIVE",
		"legacy-worker:1  ACTIVE", "web-api:1        ACTIVE",
		"[CRITICAL] ecsguard: reports:1 deregistered",
		"action: deregister: deregistered",
		"swept, 5 revisions in the role index",
		"9 subjects judged: 7 with findings, 2 clean, 0 incomplete; 7 open findings (1 CRITICAL, 3 HIGH, 1 MEDIUM, 1 LOW, 1 INFORMATIONAL), 0 suppressed; fail-on HIGH: fail",
		"ecsguard: scanned 5 task definitions and 4 roles in us-east-1",
		"[CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 1 task definition",
		"CRITICAL TD-008 task role allows all actions, or a whole service, on every resource (new)",
		"[HIGH] ecsguard: PutRolePolicy on ecsEventsRole affects ecsEventsRole",
		"used by events-target arn:aws:events:us-east-1:111122223333:rule/nightly-report",
		"iam-attachrolepolicy-unrelated-role           evaluated  data-science-notebook  -              0         -       -",
		"swept, 11 revisions of 3 accounts in the role index",
		"[CRITICAL] ecsguard: team-a: reports:1 deregistered",
		"accountName=team-a",
		"[HIGH] ecsguard: team-b: billing:1 deregistered",
		"outside the organization  dropped: account 999988887777: not a member of the organ",
		"tagged by platform-admins/alice (approver)  evaluated  0, 1 suppressed",
		"exemption ignored: set by arn:aws:iam::111122223333:role/developers, not an exemption approver",
		"ecs-registertaskdefinition-shared-role             evaluated                                                    1 (HIGH)      TD-001  sent   would deregister (dry run)",
		"iam-updateassumerolepolicy-task-role       evaluated  web-api-task  web-api:1",
		"web-api:1 deregistered  sent",
		"[CRITICAL] ecsguard: tampering: SetTopicAttributes on ecsguard-findings by ci-deploy",
		"-- role change: [CRITICAL] ecsguard: AttachRolePolicy on web-api-task affects 1 task definition",
		"  ┃ [CRITICAL] ECSGUARD: TAMPERING: SETTOPICATTRIBUTES ON ECSGUARD-FINDINGS BY CI-DEPLOY",
		"  | Tampering cannot be exempted: revert the change with the stack (cdk deploy).",
		"-- registration in a member account: [CRITICAL] ecsguard: team-a: reports:1 deregistered",
		"reports:1          TD-008    CRITICAL  ARCHIVED  RESOLVED  AwsEcsTaskDefinition,AwsIamRole",
		"legacy-worker:1    TD-007    MEDIUM    ACTIVE    NEW       AwsEcsTaskDefinition",
		"ecsguard-findings  ECSG-002  CRITICAL  ACTIVE    NEW       AwsSnsTopic",
		"team-a  reports:1  INACTIVE", "team-a  billing:1  ACTIVE", "team-b  billing:1  INACTIVE", "team-b  reports:1  ACTIVE",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("the demo does not show %q\n%s", s, text)
		}
	}
}
