package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/ledger"
)

// organization runs the same functions as an organization deployment: the
// sample account becomes the security account that manages an
// organization of two member accounts, team-a and team-b, each seeded
// with the sample's roles and task definitions. The functions assume the
// member role in the account of each event. onrolechange sweeps every
// member; onregister, in enforce mode, handles registrations made in the
// members and one from an account outside the organization.
func (d *demo) organization(ctx context.Context) error {
	org, err := emulator.NewOrganization(ctx, d.moto.URL(), d.sample.Account, "team-a", "team-b")
	if err != nil {
		return err
	}
	members := map[string]emulator.Sample{}
	for _, m := range org.Members {
		if members[m.Name], err = emulator.Seed(ctx, d.moto.Config(ctx, m.ID)); err != nil {
			return err
		}
		// The member role the organization's StackSet deploys.
		if err := emulator.NewMemberRole(ctx, d.moto.URL(), m.ID, "ecsguard-member", org.ID,
			d.sample.Roles["ecsguard-onregister"], d.sample.Roles["ecsguard-onrolechange"]); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.w, "\n== organization %s: the same functions in the security account %s, guarding team-a (%s) and team-b (%s) through their member role\n\n",
		org.ID, d.sample.Account, org.Members[0].ID, org.Members[1].ID)
	orgEnv := []string{"MEMBER_ROLE_NAME=ecsguard-member", "ORGANIZATION_ID=" + org.ID}
	ledgerTable := d.sample.LedgerTable + "-organization"
	if err := ledger.CreateTable(ctx, dynamodb.NewFromConfig(d.cfg), ledgerTable); err != nil {
		return err
	}

	sweeper, err := d.start(ctx, "onrolechange", orgEnv...)
	if err != nil {
		return err
	}
	resp, err := sweeper.Invoke(ctx, []byte(`{"version":"0","id":"sweep-organization","detail-type":"Scheduled Event","source":"aws.events","account":"`+
		d.sample.Account+`","region":"us-east-1","resources":[],"detail":{}}`))
	d.stop(sweeper)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	var sw guard.SweepOutcome
	if err := json.Unmarshal(resp, &sw); err != nil {
		return err
	}
	fmt.Fprintf(d.w, "onrolechange, scheduled sweep: %s, %d revisions of %d accounts in the role index (%d AWS calls)\n\n",
		sw.Result, sw.Recorded, sw.Accounts, sw.Calls)

	fn, err := d.start(ctx, "onregister", append(orgEnv, "MODE=enforce", "ENFORCE_MIN_SEVERITY=HIGH", "IDEMPOTENCY_TABLE="+ledgerTable)...)
	if err != nil {
		return err
	}
	defer d.stop(fn)
	outside := "999988887777"
	deliveries := []struct{ file, account, label string }{
		{"ecs-registertaskdefinition-admin-task-role.json", org.Members[0].ID, "team-a"},
		{"ecs-registertaskdefinition-fargate-compliant.json", org.Members[0].ID, "team-a"},
		{"ecs-registertaskdefinition-shared-role.json", org.Members[1].ID, "team-b"},
		{"ecs-registertaskdefinition-admin-task-role.json", outside, "outside the organization"},
	}
	tw := tabwriter.NewWriter(d.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tACCOUNT\tRESULT\tFINDINGS\tRULES\tALERT\tACTION\tAWS CALLS")
	for _, dl := range deliveries {
		b, err := fs.ReadFile(eventstestdata.FS, dl.file)
		if err != nil {
			return err
		}
		b = []byte(strings.ReplaceAll(string(b), emulator.SampleAccount, dl.account))
		resp, err := fn.Invoke(ctx, b)
		if err != nil {
			return fmt.Errorf("%s in %s: %w\n%s", dl.file, dl.label, err, fn.Logs())
		}
		row, err := d.registered(resp)
		if err != nil {
			return fmt.Errorf("%s in %s: %w", dl.file, dl.label, err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.TrimSuffix(dl.file, ".json"), dl.label, row)
	}
	tw.Flush()
	if err := d.readAlerts(ctx); err != nil {
		return err
	}
	fmt.Fprintf(d.w, "\nTask definitions of the members after enforce mode:\n")
	for _, m := range org.Members {
		ec := ecs.NewFromConfig(d.moto.Config(ctx, m.ID))
		for _, family := range []string{"billing", "reports", "web-api"} {
			out, err := ec.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(members[m.Name].TaskDefinitions[family])})
			if err != nil {
				return err
			}
			fmt.Fprintf(d.w, "  %-7s %-10s %s\n", m.Name, fmt.Sprintf("%s:%d", family, out.TaskDefinition.Revision), out.TaskDefinition.Status)
		}
	}
	d.summary.Accounts = len(org.Members)
	return nil
}
