package emulator

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// Organization is an emulated AWS Organization: the account that manages
// it, where ecsguard is deployed, and its members.
type Organization struct {
	ID         string
	Management string
	Members    []OrgMember
}

// OrgMember is a member account of an [Organization].
type OrgMember struct{ ID, Name string }

// NewOrganization creates an organization managed by account management
// (an account of the server at endpoint) with one member account per
// name. moto chooses the members' ids, as AWS does.
func NewOrganization(ctx context.Context, endpoint, management string, names ...string) (Organization, error) {
	org := organizations.NewFromConfig(Config(endpoint, management))
	out, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	if err != nil {
		return Organization{}, fmt.Errorf("create organization: %w", err)
	}
	o := Organization{ID: aws.ToString(out.Organization.Id), Management: management}
	for i, name := range names {
		got, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(name), Email: aws.String(fmt.Sprintf("member-%d@example.com", i)),
		})
		if err != nil {
			return Organization{}, fmt.Errorf("create account %s: %w", name, err)
		}
		o.Members = append(o.Members, OrgMember{ID: aws.ToString(got.CreateAccountStatus.AccountId), Name: name})
	}
	return o, nil
}

// MemberRolePolicy is the inline policy of the member role, as the member
// stack names it.
const MemberRolePolicy = "ecsguard-reads"

// NewMemberRole creates in account the member role an organization's
// StackSet deploys: trusted by the functions' roles from the
// organization, with its one inline policy of reads.
func NewMemberRole(ctx context.Context, endpoint, account, name, organization string, trusted ...string) error {
	c := iam.NewFromConfig(Config(endpoint, account))
	principals, _ := json.Marshal(trusted)
	trust := `{"Version":"2012-10-17","Statement":[{"Sid":"EcsguardFunctions","Effect":"Allow","Action":"sts:AssumeRole",` +
		`"Principal":{"AWS":` + string(principals) + `},"Condition":{"StringEquals":{"aws:PrincipalOrgID":"` + organization + `"}}}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		return fmt.Errorf("member role in %s: %w", account, err)
	}
	// The member stack's policy (infra/member.go) in enforce mode.
	reads := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":["ecs:DescribeTaskDefinition","ecs:ListTaskDefinitions","ecs:ListClusters","ecs:DeregisterTaskDefinition"],"Resource":"*"},` +
		`{"Effect":"Allow","Action":["iam:GetRole","iam:ListRolePolicies","iam:GetRolePolicy","iam:ListAttachedRolePolicies","iam:ListInstanceProfilesForRole"],"Resource":"arn:aws:iam::` + account + `:role/*"},` +
		`{"Effect":"Allow","Action":["iam:GetPolicy","iam:GetPolicyVersion","iam:ListEntitiesForPolicy"],"Resource":["arn:aws:iam::` + account + `:policy/*","arn:aws:iam::aws:policy/*"]},` +
		`{"Effect":"Allow","Action":["events:ListEventBuses","events:ListRuleNamesByTarget","scheduler:ListSchedules","application-autoscaling:DescribeScalableTargets"],"Resource":"*"},` +
		`{"Effect":"Allow","Action":"events:ListTargetsByRule","Resource":"arn:aws:events:*:` + account + `:rule/*"},` +
		`{"Effect":"Allow","Action":"scheduler:GetSchedule","Resource":"arn:aws:scheduler:*:` + account + `:schedule/*"}]}`
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(MemberRolePolicy), PolicyDocument: aws.String(reads)}); err != nil {
		return fmt.Errorf("member role policy in %s: %w", account, err)
	}
	return nil
}
