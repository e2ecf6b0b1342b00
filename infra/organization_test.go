package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/ecsguard/ecsguard/shared/emulator"
	"github.com/ecsguard/ecsguard/shared/guard"
	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// The organization deployments under test, each synthesized once: enforce
// mode with every default, and alert mode with every organization setting
// given.
var (
	orgEnforce = lazySynth(map[string]any{
		"ecsguard:deployment": "organization", "ecsguard:organizationId": "o-a1b2c3d4e5",
		"ecsguard:targetOus":  []any{"ou-ab12-cdef3456", "r-ab12"},
		"ecsguard:homeRegion": "eu-west-1", "ecsguard:regions": []any{"eu-west-1", "eu-central-1"},
		"ecsguard:mode": "enforce",
	})
	orgAlert = lazySynth(map[string]any{
		"ecsguard:deployment": "organization", "ecsguard:organizationId": "o-zz99yy88xx77",
		"ecsguard:targetOus": "ou-ab12-cdef3456", "ecsguard:memberRoleName": "sec-ecsguard-reader",
		"ecsguard:memberRegions": []any{"us-east-1", "us-west-2"}, "ecsguard:accounts": []any{"111122223333", "444455556666"},
		"ecsguard:stackSetCallAs": "SELF",
	})
)

// Stand-ins for the values CloudFormation resolves at deployment.
const (
	sampleHome      = "999988887777" // the home account
	sampleMember    = "111122223333" // a member account
	samplePartition = "aws"
)

// member is the member stack of an organization app: its template, as
// synthesized into the app's nested assembly, the file, and the errors
// synthesis left on it.
type memberStack struct {
	template template
	raw      map[string]any
	file     string
	errors   []string
}

func member(t *testing.T, app *synthesized) memberStack {
	t.Helper()
	nested := *cxapi.NewCloudAssembly(jsii.String(app.dir), nil).NestedAssemblies()
	if len(nested) != 1 {
		t.Fatalf("%d nested assemblies, want the member stage alone", len(nested))
	}
	stacks := *nested[0].NestedAssembly().Stacks()
	if len(stacks) != 1 {
		t.Fatalf("member stage: %d stacks", len(stacks))
	}
	st := stacks[0]
	out := memberStack{file: *st.TemplateFullPath()}
	b, err := os.ReadFile(out.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out.template); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out.raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range *st.Messages() {
		if m.Level == cxapi.SynthesisMessageLevel_ERROR {
			out.errors = append(out.errors, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
		}
	}
	return out
}

// resolved is a value of a template with the references resolved to the
// sample accounts, as JSON.
func resolved(t *testing.T, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(resolve(t, x, map[string]string{
		"AWS::Partition": samplePartition, "CentralAccountId": sampleHome, "AWS::AccountId": sampleMember,
	}))
	return string(out)
}

// canonical is a value as JSON, keys sorted.
func canonical(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOrganizationNoNagOrSynthesisErrors(t *testing.T) {
	for _, app := range []*synthesized{orgEnforce(t), orgAlert(t)} {
		for name := range app.templates {
			if errs := app.errors[name]; len(errs) > 0 {
				t.Errorf("%s: %d errors:\n%s", name, len(errs), strings.Join(errs, "\n"))
			}
		}
		if m := member(t, app); len(m.errors) > 0 {
			t.Errorf("member stack: %d errors:\n%s", len(m.errors), strings.Join(m.errors, "\n"))
		}
	}
}

// The top-level stacks are the home stack and its forwarders, which cdk
// deploy --all deploys; the member stack is in a stage of its own, which
// it leaves alone. The home account is watched in the member regions too.
func TestOrganizationStacks(t *testing.T) {
	for _, tc := range []struct {
		app     *synthesized
		stacks  []string
		regions []string
	}{
		{orgEnforce(t), []string{"Ecsguard", "Ecsguard-eu-central-1", "Ecsguard-us-east-1"}, []string{"eu-west-1", "eu-central-1", "us-east-1"}},
		{orgAlert(t), []string{"Ecsguard", "Ecsguard-us-west-2"}, []string{"us-east-1", "us-west-2"}},
	} {
		var names []string
		for name := range tc.app.templates {
			names = append(names, name)
		}
		slices.Sort(names)
		if !slices.Equal(names, tc.stacks) {
			t.Errorf("stacks %v, want %v", names, tc.stacks)
		}
		if got := env(t, tc.app.templates["Ecsguard"], "onrolechange")["REGIONS"]; got != strings.Join(tc.regions, ",") {
			t.Errorf("REGIONS = %v, want %v", got, tc.regions)
		}
	}
}

// Account mode is untouched: no central bus, no StackSet, no member stack,
// no role names, WATCHED_ACCOUNTS the stack's account.
func TestAccountModeHasNoOrganization(t *testing.T) {
	for _, app := range []*synthesized{defaults(t), full(t)} {
		home := app.templates["Ecsguard"]
		for _, typ := range []string{"AWS::Events::EventBus", "AWS::Events::EventBusPolicy", "AWS::CloudFormation::StackSet"} {
			if n := len(home.of(typ)); n != 0 {
				t.Errorf("%d %s", n, typ)
			}
		}
		if n := len(*cxapi.NewCloudAssembly(jsii.String(app.dir), nil).NestedAssemblies()); n != 0 {
			t.Errorf("%d nested assemblies", n)
		}
		for id, r := range home.of("AWS::IAM::Role") {
			if r.Properties["RoleName"] != nil {
				t.Errorf("%s: named %v", id, r.Properties["RoleName"])
			}
		}
		for _, fn := range []string{"onregister", "onrolechange"} {
			vars := env(t, home, fn)
			for _, v := range []string{"MEMBER_ROLE_NAME", "ORGANIZATION_ID"} {
				if _, ok := vars[v]; ok {
					t.Errorf("%s: %s set", fn, v)
				}
			}
		}
	}
}

// The central bus takes PutEvents from the organization alone, and its
// rules send the member accounts' events to the functions as the default
// bus's do, with the same patterns, retries and DLQs, under names of their
// own that ECSGUARD_RULE_NAMES and the tamper rule list.
func TestCentralBus(t *testing.T) {
	for _, app := range []*synthesized{orgEnforce(t), orgAlert(t)} {
		home := app.templates["Ecsguard"]
		orgID := app.settings.Organization.ID
		has(t, home, "AWS::Events::EventBus", map[string]any{"Name": "ecsguard-central"})
		policies := home.of("AWS::Events::EventBusPolicy")
		if len(policies) != 1 {
			t.Fatalf("%d bus policies", len(policies))
		}
		for id, p := range policies {
			st, _ := json.Marshal(p.Properties["Statement"])
			want := `{"Action":"events:PutEvents","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + orgID + `"}},"Effect":"Allow","Principal":"*",` +
				`"Resource":{"Fn::GetAtt":["CentralBus3F528159","Arn"]},"Sid":"cdk-OrganizationPutEvents"}`
			if string(st) != want {
				t.Errorf("%s: statement\n%s\nwant\n%s", id, st, want)
			}
		}

		patterns := rules(t, home)
		byBus := map[string][]string{} // bus → rule names
		for id, r := range home.of("AWS::Events::Rule") {
			bus := "default"
			if b, ok := r.Properties["EventBusName"].(map[string]any); ok {
				bus = fmt.Sprint(b["Ref"])
			}
			byBus[bus] = append(byBus[bus], r.Properties["Name"].(string))
			// The central rules take the default rules' patterns and
			// targets (function, retries, DLQ).
			twin := map[string]string{"OrgRegisterTaskDefinitionRule": "RegisterTaskDefinitionRule", "OrgRoleChangeRule": "RoleChangeRule"}[stem(id)]
			if bus == "default" {
				continue
			}
			if twin == "" {
				t.Errorf("unexpected rule %s on %s", id, bus)
				continue
			}
			for other, o := range home.of("AWS::Events::Rule") {
				if stem(other) != twin {
					continue
				}
				if patterns[id] != patterns[other] {
					t.Errorf("%s pattern %s, want %s's %s", id, patterns[id], other, patterns[other])
				}
				a, _ := json.Marshal(r.Properties["Targets"])
				b, _ := json.Marshal(o.Properties["Targets"])
				if strings.ReplaceAll(string(a), id, "RULE") != strings.ReplaceAll(string(b), other, "RULE") {
					t.Errorf("%s targets\n%s\nwant %s's\n%s", id, a, other, b)
				}
			}
		}
		slices.Sort(byBus["default"])
		slices.Sort(byBus["CentralBus3F528159"])
		if want := []string{"Ecsguard-RegisterTaskDefinition", "Ecsguard-RoleChange", "Ecsguard-Sweep", "Ecsguard-Tamper"}; !slices.Equal(byBus["default"], want) {
			t.Errorf("default bus rules %v, want %v", byBus["default"], want)
		}
		if want := []string{"Ecsguard-OrgRegisterTaskDefinition", "Ecsguard-OrgRoleChange"}; !slices.Equal(byBus["CentralBus3F528159"], want) {
			t.Errorf("central bus rules %v, want %v", byBus["CentralBus3F528159"], want)
		}
		all := append(slices.Clone(byBus["default"]), byBus["CentralBus3F528159"]...)
		slices.Sort(all)
		for _, fn := range []string{"onregister", "onrolechange"} {
			got := strings.Split(fmt.Sprint(env(t, home, fn)["ECSGUARD_RULE_NAMES"]), ",")
			slices.Sort(got)
			if !slices.Equal(got, all) {
				t.Errorf("%s: ECSGUARD_RULE_NAMES %v, want %v", fn, got, all)
			}
		}
		tamper, _ := json.Marshal(home.one(t, "AWS::Events::Rule", "TamperRule").Properties["EventPattern"])
		names, _ := json.Marshal([]string{"Ecsguard-RegisterTaskDefinition", "Ecsguard-RoleChange", "Ecsguard-Sweep", "Ecsguard-Tamper", "Ecsguard-OrgRegisterTaskDefinition", "Ecsguard-OrgRoleChange"})
		if strings.Count(string(tamper), string(names)) != 2 {
			t.Errorf("tamper pattern %s does not name the rules %s", tamper, names)
		}
	}
}

// The StackSet: service-managed, deployed by a delegated administrator
// (or the management account), to the target OUs but the home account, in
// the member regions, automatically to the accounts that join, removed
// from those that leave; the member template inline.
func TestStackSet(t *testing.T) {
	for _, tc := range []struct {
		app     *synthesized
		callAs  string
		ous     []string
		regions []string
	}{
		{orgEnforce(t), "DELEGATED_ADMIN", []string{"ou-ab12-cdef3456", "r-ab12"}, []string{"eu-west-1", "eu-central-1", "us-east-1"}},
		{orgAlert(t), "SELF", []string{"ou-ab12-cdef3456"}, []string{"us-east-1", "us-west-2"}},
	} {
		home := tc.app.templates["Ecsguard"]
		has(t, home, "AWS::CloudFormation::StackSet", map[string]any{
			"StackSetName":     "Ecsguard-Member",
			"PermissionModel":  "SERVICE_MANAGED",
			"CallAs":           tc.callAs,
			"AutoDeployment":   map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false},
			"ManagedExecution": map[string]any{"Active": true},
			"Capabilities":     []string{"CAPABILITY_NAMED_IAM"},
			"OperationPreferences": map[string]any{
				"ConcurrencyMode": "SOFT_FAILURE_TOLERANCE", "FailureTolerancePercentage": 10, "MaxConcurrentPercentage": 25, "RegionConcurrencyType": "PARALLEL",
			},
			"Parameters": []any{map[string]any{"ParameterKey": "CentralAccountId", "ParameterValue": map[string]any{"Ref": "AWS::AccountId"}}},
			"StackInstancesGroup": []any{map[string]any{
				"DeploymentTargets": map[string]any{
					"OrganizationalUnitIds": tc.ous,
					"AccountFilterType":     "DIFFERENCE",
					"Accounts":              []any{map[string]any{"Ref": "AWS::AccountId"}},
				},
				"Regions": tc.regions,
			}},
			"TemplateBody": assertions.Match_AnyValue(),
		})
		set := home.one(t, "AWS::CloudFormation::StackSet", "MemberStackSet")
		body, _ := set.Properties["TemplateBody"].(string)
		if len(body) == 0 || len(body) > maxTemplateBody {
			t.Errorf("TemplateBody: %d bytes, want 1 to %d", len(body), maxTemplateBody)
		}
		var inline map[string]any
		if err := json.Unmarshal([]byte(body), &inline); err != nil {
			t.Fatal(err)
		}
		m := member(t, tc.app)
		if a, b := canonical(inline), canonical(m.raw); a != b {
			t.Errorf("TemplateBody is not the member stack's template %s", m.file)
		}
		// The member role trusts the functions' roles by ARN, which IAM
		// checks exist.
		deps := fmt.Sprint(set.DependsOn)
		for _, role := range []string{"OnRegisterRole", "OnRoleChangeRole", "CentralBus"} {
			if !strings.Contains(deps, role) {
				t.Errorf("StackSet depends on %s, want %s too", deps, role)
			}
		}
	}
}

// The member template: its one parameter, nothing of the CDK bootstrap, the
// ECS forwarding in every region, the IAM forwarding and the member role in
// us-east-1 alone.
func TestMemberForwarding(t *testing.T) {
	for _, app := range []*synthesized{orgEnforce(t), orgAlert(t)} {
		m := member(t, app)
		if p, _ := json.Marshal(m.raw["Parameters"]); string(p) != `{"CentralAccountId":{"AllowedPattern":"^\\d{12}$","Description":"The account ecsguard runs in, whose bus and functions this stack serves","Type":"String"}}` {
			t.Errorf("parameters %s", p)
		}
		if m.raw["Rules"] != nil {
			t.Errorf("rules %v: member accounts have no CDK bootstrap", m.raw["Rules"])
		}
		if c, _ := json.Marshal(m.raw["Conditions"]); string(c) != `{"InIAMRegion":{"Fn::Equals":[{"Ref":"AWS::Region"},"us-east-1"]}}` {
			t.Errorf("conditions %s", c)
		}
		// Which resources exist in every region, which in us-east-1 alone.
		got := map[string][]string{}
		for id, r := range m.raw["Resources"].(map[string]any) {
			res := r.(map[string]any)
			cond, _ := res["Condition"].(string)
			got[cond] = append(got[cond], res["Type"].(string)+" "+stem(id))
		}
		for _, list := range got {
			slices.Sort(list)
		}
		want := map[string][]string{
			"": {
				"AWS::Events::Rule ForwardRegisterTaskDefinition", "AWS::IAM::Policy ForwardRoleDefaultPolicy", "AWS::IAM::Role ForwardRole",
				"AWS::SQS::Queue ForwardRegisterTaskDefinitionDLQ", "AWS::SQS::QueuePolicy ForwardRegisterTaskDefinitionDLQPolicy",
			},
			"InIAMRegion": {
				"AWS::Events::Rule InIAMRegionOnlyForwardRoleChanges", "AWS::IAM::Role InIAMRegionOnlyAuditRole", "AWS::IAM::Role InIAMRegionOnlyMemberRole",
				"AWS::SQS::Queue InIAMRegionOnlyForwardRoleChangesDLQ", "AWS::SQS::QueuePolicy InIAMRegionOnlyForwardRoleChangesDLQPolicy",
			},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("member resources by condition\n%v\nwant\n%v", got, want)
		}

		// Same patterns as the home stack's rules; each to the central bus
		// with the forwarding role and a DLQ.
		home := rules(t, app.templates["Ecsguard"])
		patterns := rules(t, m.template)
		var ecs, iam string
		for id, p := range home {
			switch stem(id) {
			case "RegisterTaskDefinitionRule":
				ecs = p
			case "RoleChangeRule":
				iam = p
			}
		}
		bus := fmt.Sprintf(`"arn:aws:events:%s:%s:event-bus/ecsguard-central"`, app.settings.HomeRegion, sampleHome)
		for id, r := range m.template.of("AWS::Events::Rule") {
			want := map[string]string{"ForwardRegisterTaskDefinition": ecs, "InIAMRegionOnlyForwardRoleChanges": iam}[stem(id)]
			if want == "" || patterns[id] != want {
				t.Errorf("%s: pattern %s, want %s", id, patterns[id], want)
			}
			if name := map[string]string{"ForwardRegisterTaskDefinition": "ecsguard-forward-RegisterTaskDefinition", "InIAMRegionOnlyForwardRoleChanges": "ecsguard-forward-RoleChange"}[stem(id)]; r.Properties["Name"] != name {
				t.Errorf("%s: name %v, want %s", id, r.Properties["Name"], name)
			}
			targets := r.Properties["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("%s: %d targets", id, len(targets))
			}
			tg := targets[0].(map[string]any)
			if got := resolved(t, tg["Arn"]); got != bus {
				t.Errorf("%s: target %s, want %s", id, got, bus)
			}
			if role, _ := json.Marshal(tg["RoleArn"]); !strings.Contains(string(role), `"ForwardRole`) {
				t.Errorf("%s: role %s", id, role)
			}
		}
		// The forwarding role may put events on the central bus, nothing
		// else.
		for id, p := range m.template.of("AWS::IAM::Policy") {
			if got, want := resolved(t, p.Properties["PolicyDocument"]), `{"Statement":[{"Action":"events:PutEvents","Effect":"Allow","Resource":`+bus+`}],"Version":"2012-10-17"}`; got != want {
				t.Errorf("%s: %s, want %s", id, got, want)
			}
		}
		has(t, m.template, "AWS::IAM::Role", map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "events.amazonaws.com"},
			}}, "Version": "2012-10-17"},
		})
	}
}

// The audit role that ecsguard scan --organization assumes: trusted by
// the home account from the organization, read-only, never a
// deregistration, whatever the mode.
func TestAuditRole(t *testing.T) {
	for _, app := range []*synthesized{orgEnforce(t), orgAlert(t)} {
		m := member(t, app)
		role := m.template.one(t, "AWS::IAM::Role", "InIAMRegionOnlyAuditRole")
		if role.Properties["RoleName"] != AuditRoleName {
			t.Errorf("role name %v", role.Properties["RoleName"])
		}
		trust := resolved(t, role.Properties["AssumeRolePolicyDocument"])
		want := `{"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + app.settings.Organization.ID + `"}},"Effect":"Allow",` +
			`"Principal":{"AWS":"arn:aws:iam::` + sampleHome + `:root"},"Sid":"HomeAccount"}],"Version":"2012-10-17"}`
		if trust != want {
			t.Errorf("trust\n%s\nwant\n%s", trust, want)
		}
		var actions []string
		for _, st := range role.Properties["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			for _, a := range st.(map[string]any)["Action"].([]any) {
				actions = append(actions, a.(string))
			}
		}
		slices.Sort(actions)
		wantActions := []string{
			"application-autoscaling:DescribeScalableTargets",
			"ecs:DescribeTaskDefinition", "ecs:ListClusters", "ecs:ListTaskDefinitionFamilies", "ecs:ListTaskDefinitions",
			"events:ListEventBuses", "events:ListRuleNamesByTarget", "events:ListTargetsByRule",
			"iam:GetAccountAuthorizationDetails", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListInstanceProfilesForRole",
			"scheduler:GetSchedule", "scheduler:ListSchedules",
		}
		if !slices.Equal(actions, wantActions) {
			t.Errorf("audit role actions\n%v\nwant\n%v", actions, wantActions)
		}
	}
}

// The member role: named by the setting, trusted by the two functions'
// roles alone and only from the organization, granting the reads the
// functions make at home, and deregistration in enforce mode only.
func TestMemberRole(t *testing.T) {
	for _, tc := range []struct {
		app        *synthesized
		name       string
		deregister bool
	}{
		{orgEnforce(t), "ecsguard-member", true},
		{orgAlert(t), "sec-ecsguard-reader", false},
	} {
		m := member(t, tc.app)
		role := m.template.one(t, "AWS::IAM::Role", "InIAMRegionOnlyMemberRole")
		if role.Properties["RoleName"] != tc.name {
			t.Errorf("role name %v, want %s", role.Properties["RoleName"], tc.name)
		}
		trust := resolved(t, role.Properties["AssumeRolePolicyDocument"])
		want := `{"Statement":[{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + tc.app.settings.Organization.ID + `"}},"Effect":"Allow",` +
			`"Principal":{"AWS":["arn:aws:iam::` + sampleHome + `:role/ecsguard-onregister","arn:aws:iam::` + sampleHome + `:role/ecsguard-onrolechange"]},"Sid":"EcsguardFunctions"}],"Version":"2012-10-17"}`
		if trust != want {
			t.Errorf("trust\n%s\nwant\n%s", trust, want)
		}
		// The roles it trusts are the functions' roles.
		for id, r := range tc.app.templates["Ecsguard"].of("AWS::IAM::Role") {
			if strings.HasPrefix(id, "OnRegisterRole") || strings.HasPrefix(id, "OnRoleChangeRole") {
				if name := r.Properties["RoleName"]; !strings.Contains(want, ":role/"+fmt.Sprint(name)+`"`) {
					t.Errorf("%s named %v, which the member role does not trust", id, name)
				}
			}
		}

		policies := role.Properties["Policies"].([]any)
		if len(policies) != 1 {
			t.Fatalf("%d policies", len(policies))
		}
		var actions []string
		for _, st := range policies[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" || st["Condition"] != nil {
				t.Errorf("statement %v", st)
			}
			for _, a := range st["Action"].([]any) {
				actions = append(actions, a.(string))
			}
		}
		// It allows every call the functions make with it, in each region.
		doc, err := iampolicy.Parse(resolved(t, policies[0].(map[string]any)["PolicyDocument"]))
		if err != nil {
			t.Fatal(err)
		}
		set := iampolicy.NewSet([]iampolicy.Policy{{Name: "inline", Document: doc}}, nil)
		for _, region := range tc.app.settings.Regions {
			for _, n := range guard.MemberNeeds(samplePartition, sampleMember, region, tc.deregister) {
				if d := set.Decide(n.Action, n.Resource); d != iampolicy.Allowed {
					t.Errorf("member role: %s on %s is %v, the functions call it", n.Action, n.Resource, d)
				}
			}
		}
		slices.Sort(actions)
		wantActions := []string{
			"application-autoscaling:DescribeScalableTargets",
			"ecs:DescribeTaskDefinition", "ecs:ListClusters", "ecs:ListTaskDefinitions",
			"events:ListEventBuses", "events:ListRuleNamesByTarget", "events:ListTargetsByRule",
			"iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
			"iam:ListEntitiesForPolicy", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies",
			"scheduler:GetSchedule", "scheduler:ListSchedules",
		}
		if tc.deregister {
			wantActions = append(wantActions, "ecs:DeregisterTaskDefinition")
			slices.Sort(wantActions)
		}
		if !slices.Equal(actions, wantActions) {
			t.Errorf("member role may call\n%v\nwant\n%v", actions, wantActions)
		}
		// The same reads the home policies grant in the home account.
		home := tc.app.templates["Ecsguard"]
		var reads []string
		for _, fn := range []string{"OnRegister", "OnRoleChange"} {
			for a := range statements(t, home, fn) {
				if svc, _, _ := strings.Cut(a, ":"); !slices.Contains([]string{"sns", "kms", "logs", "sqs", "dynamodb", "sts", "organizations"}, svc) && !slices.Contains(reads, a) {
					reads = append(reads, a)
				}
			}
		}
		slices.Sort(reads)
		if !slices.Equal(actions, reads) {
			t.Errorf("member role may call\n%v\nthe home policies\n%v", actions, reads)
		}
	}
}

// In organization mode the functions get the member role and organization
// (MEMBER_ROLE_NAME, ORGANIZATION_ID), WATCHED_ACCOUNTS only as an
// allow-list, and fixed role names.
func TestOrganizationFunctionSettings(t *testing.T) {
	for _, tc := range []struct {
		app     *synthesized
		watched any
	}{
		{orgEnforce(t), nil},
		{orgAlert(t), "111122223333,444455556666"},
	} {
		home := tc.app.templates["Ecsguard"]
		org := tc.app.settings.Organization
		for _, fn := range []string{"onregister", "onrolechange"} {
			vars := env(t, home, fn)
			if vars["MEMBER_ROLE_NAME"] != org.MemberRoleName || vars["ORGANIZATION_ID"] != org.ID {
				t.Errorf("%s: MEMBER_ROLE_NAME %v, ORGANIZATION_ID %v", fn, vars["MEMBER_ROLE_NAME"], vars["ORGANIZATION_ID"])
			}
			if got := vars["WATCHED_ACCOUNTS"]; got != tc.watched {
				t.Errorf("%s: WATCHED_ACCOUNTS %v, want %v", fn, got, tc.watched)
			}
			has(t, home, "AWS::IAM::Role", map[string]any{"RoleName": "ecsguard-" + fn})
		}
	}
}

// Each function may assume the member role of the organization's accounts
// and describe them; onrolechange may list them for the sweep. Nothing else
// changes from account mode.
func TestOrganizationLeastPrivilege(t *testing.T) {
	for _, tc := range []struct {
		org, acct *synthesized
	}{
		{orgEnforce(t), full(t)},
		{orgAlert(t), defaults(t)},
	} {
		org := tc.org.settings.Organization
		for _, fn := range []string{"OnRegister", "OnRoleChange"} {
			got := statements(t, tc.org.templates["Ecsguard"], fn)
			before := statements(t, tc.acct.templates["Ecsguard"], fn)
			if fn == "OnRoleChange" && tc.org.settings.Mode == "enforce" {
				delete(before, "ecs:DeregisterTaskDefinition") // full enforces on role change too
			}
			var added []string
			for a := range got {
				if _, ok := before[a]; !ok {
					added = append(added, a)
				}
			}
			for a := range before {
				if _, ok := got[a]; !ok {
					t.Errorf("%s: organization mode drops %s", fn, a)
				}
			}
			slices.Sort(added)
			want := []string{"organizations:DescribeAccount", "organizations:ListAccounts", "sts:AssumeRole"}
			if !slices.Equal(added, want) {
				t.Errorf("%s: organization mode adds %v, want %v", fn, added, want)
			}
			if r := got["organizations:DescribeAccount"]; len(r) != 1 || resolved(t, json.RawMessage(r[0])) != `"arn:aws:organizations::*:account/`+org.ID+`/*"` {
				t.Errorf("%s: DescribeAccount on %v", fn, r)
			}
		}
		has(t, tc.org.templates["Ecsguard"], "AWS::IAM::Policy", map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Sid": "AssumeMemberRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
				"Resource":  map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::*:role/" + org.MemberRoleName}}},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": org.ID}},
			}})},
		})
	}
}

// cfn-lint on every template of the organization apps, the member
// template included.
func TestOrganizationCfnLint(t *testing.T) {
	lint := filepath.Join(emulator.DefaultVenv(), "bin", "cfn-lint")
	if _, err := os.Stat(lint); err != nil {
		if os.Getenv("ECSGUARD_REQUIRE_EMULATOR") == "1" {
			t.Fatalf("cfn-lint is not installed: %v", err)
		}
		t.Skip("cfn-lint is not installed: run make emulator-tools")
	}
	for _, app := range []*synthesized{orgEnforce(t), orgAlert(t)} {
		files, err := filepath.Glob(filepath.Join(app.dir, "*.template.json"))
		if err != nil || len(files) != len(app.templates) {
			t.Fatalf("templates %v: %v", files, err)
		}
		files = append(files, member(t, app).file)
		out, err := exec.Command(lint, append([]string{"--ignore-checks", "W3005", "--"}, files...)...).CombinedOutput()
		if err != nil {
			t.Errorf("cfn-lint: %v\n%s", err, out)
		}
	}
}
