package emulator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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
