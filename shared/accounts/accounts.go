// Package accounts knows the accounts a deployment guards: which belong to
// its AWS Organization, their names and status, and the AWS configuration
// to act in each, by assuming the member role that the organization's
// StackSet put there.
//
// A deployment without a member role guards its own account only, with its
// own credentials: the zero Directory (or a nil one) is that case.
package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Account is a member of the organization.
type Account struct {
	ID   string
	Name string
	// Status is the account's state: PENDING_ACTIVATION, ACTIVE,
	// SUSPENDED, PENDING_CLOSURE or CLOSED.
	Status string
}

// Active reports whether the account runs anything: a suspended account,
// or one being closed, does not
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_account_state.html).
func (a Account) Active() bool { return a.Status == string(orgtypes.AccountStateActive) }

// ErrNotMember is returned for an account that is not, or no longer, in
// the organization.
var ErrNotMember = errors.New("not a member of the organization")

// AssumeError is a member role that could not be assumed: the account's
// member stack is not deployed yet, or the role was removed or changed.
type AssumeError struct {
	Account, Role string
	Err           error
}

func (e *AssumeError) Error() string {
	return fmt.Sprintf("account %s: cannot assume %s: %v", e.Account, e.Role, e.Err)
}

func (e *AssumeError) Unwrap() error { return e.Err }

// membershipTTL is how long an account's membership and status are
// trusted: an account that leaves or is suspended is noticed within it.
const membershipTTL = 15 * time.Minute

// credentialWindow refreshes assumed credentials this long before they
// expire, so that no call starts with credentials about to lapse.
const credentialWindow = 5 * time.Minute

// Directory answers for the accounts of one deployment. Build it once per
// process: it caches each account's configuration (credentials refreshed
// before they expire) and membership. Safe for concurrent use.
type Directory struct {
	// Base is the deployment's own configuration (its account, its
	// credentials); member roles are assumed with it.
	Base aws.Config
	// RoleName is the member role's name; "" guards the own account only.
	RoleName string
	// Organization, when set, is the organization's id: an account is
	// guarded only when Organizations knows it as a member.
	Organization string
	// Allowed, when set, limits the guarded accounts further.
	Allowed []string
	// Session is the role session name, which CloudTrail records.
	Session string
	// Now is the clock, time.Now when nil.
	Now func() time.Time

	self    string
	mu      sync.Mutex
	configs map[string]aws.Config
	members map[string]membership

	org      *organizations.Client
	stsBase  *sts.Client
	initOnce sync.Once
}

type membership struct {
	account Account
	err     error
	until   time.Time
}

func (d *Directory) init() {
	d.initOnce.Do(func() {
		d.configs = map[string]aws.Config{}
		d.members = map[string]membership{}
		d.org = organizations.NewFromConfig(d.Base)
		d.stsBase = sts.NewFromConfig(d.Base)
	})
}

// Self is the deployment's own account, asked of STS once
// (GetCallerIdentity needs no permission).
func (d *Directory) Self(ctx context.Context) (string, error) {
	d.init()
	d.mu.Lock()
	self := d.self
	d.mu.Unlock()
	if self != "" {
		return self, nil
	}
	out, err := d.stsBase.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("own account: %w", err)
	}
	d.mu.Lock()
	d.self = aws.ToString(out.Account)
	d.mu.Unlock()
	return aws.ToString(out.Account), nil
}

// Config is the configuration to act in account: the deployment's own for
// its own account (or for every account when there is no member role),
// else the member role's, assumed and cached. The credentials are
// obtained at once, so that a role that cannot be assumed is an
// *AssumeError here, not a surprise in the first call that uses them.
func (d *Directory) Config(ctx context.Context, account string) (aws.Config, error) {
	if d == nil || d.RoleName == "" {
		return d.base(), nil
	}
	d.init()
	self, err := d.Self(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	if account == self || account == "" {
		return d.Base, nil
	}
	d.mu.Lock()
	cfg, ok := d.configs[account]
	d.mu.Unlock()
	if ok {
		return cfg, nil
	}
	role := d.MemberRole(account)
	cfg = d.Base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(d.stsBase, role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = cmp.Or(d.Session, "ecsguard")
	}), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = credentialWindow })
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, &AssumeError{Account: account, Role: role, Err: err}
	}
	d.mu.Lock()
	d.configs[account] = cfg
	d.mu.Unlock()
	return cfg, nil
}

func (d *Directory) clock() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Directory) base() aws.Config {
	if d == nil {
		return aws.Config{}
	}
	return d.Base
}

// Member is the account as the organization knows it, cached for a
// while. It returns ErrNotMember for an account outside the organization
// or the allow-list. Without an organization every allowed account is a
// member, of unknown name.
func (d *Directory) Member(ctx context.Context, account string) (Account, error) {
	if d != nil && len(d.Allowed) > 0 && !slices.Contains(d.Allowed, account) {
		return Account{ID: account}, fmt.Errorf("account %s: %w (not in the allowed accounts)", account, ErrNotMember)
	}
	if d == nil || d.Organization == "" {
		return Account{ID: account, Status: string(orgtypes.AccountStateActive)}, nil
	}
	d.init()
	d.mu.Lock()
	m, ok := d.members[account]
	d.mu.Unlock()
	if ok && d.clock().Before(m.until) {
		return m.account, m.err
	}
	out, err := d.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(account)})
	var notFound *orgtypes.AccountNotFoundException
	var denied *orgtypes.AccessDeniedException
	switch {
	case errors.As(err, &notFound):
		m = membership{account: Account{ID: account}, err: fmt.Errorf("account %s: %w %s", account, ErrNotMember, d.Organization)}
	case errors.As(err, &denied):
		// The functions may describe only the accounts of their
		// organization (an account's ARN names its organization), so an
		// account outside it may be denied rather than not found. The
		// organization's list decides then: an account it lists is a
		// member whatever the policy says, one it does not list is not.
		if _, lerr := d.List(ctx); lerr != nil {
			return Account{ID: account}, fmt.Errorf("account %s: organizations:DescribeAccount: %w; and %w", account, err, lerr)
		}
		d.mu.Lock()
		listed, ok := d.members[account]
		d.mu.Unlock()
		if ok {
			return listed.account, nil
		}
		m = membership{account: Account{ID: account}, err: fmt.Errorf("account %s: %w %s (not listed by organizations:ListAccounts)", account, ErrNotMember, d.Organization)}
	case err != nil:
		return Account{ID: account}, fmt.Errorf("account %s: organizations:DescribeAccount: %w", account, err)
	default:
		m = membership{account: fromOrg(out.Account)}
	}
	m.until = d.clock().Add(membershipTTL)
	d.mu.Lock()
	d.members[account] = m
	d.mu.Unlock()
	return m.account, m.err
}

// List is every account of the organization (ListAccounts, every page),
// the allow-list applied, in the order Organizations gives them.
func (d *Directory) List(ctx context.Context) ([]Account, error) {
	d.init()
	var out []Account
	p := organizations.NewListAccountsPaginator(d.org, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("organizations:ListAccounts: %w", err)
		}
		for _, a := range page.Accounts {
			acc := fromOrg(&a)
			if len(d.Allowed) > 0 && !slices.Contains(d.Allowed, acc.ID) {
				continue
			}
			out = append(out, acc)
			d.mu.Lock()
			d.members[acc.ID] = membership{account: acc, until: d.clock().Add(membershipTTL)}
			d.mu.Unlock()
		}
	}
	return out, nil
}

func fromOrg(a *orgtypes.Account) Account {
	if a == nil {
		return Account{}
	}
	status := string(a.Status)
	// Organizations reports an account's lifecycle in State; Status, its
	// older and coarser form, was retired on 9 September 2026
	// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html).
	if a.State != "" {
		status = string(a.State)
	}
	return Account{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: status}
}

// MemberRole is the ARN of the member role in account, in the partition
// of the deployment's region.
func (d *Directory) MemberRole(account string) string {
	return RoleARN(partition(d.Base.Region), account, d.RoleName)
}

// RoleARN is the ARN of role name in account.
func RoleARN(partition, account, name string) string {
	return "arn:" + partition + ":iam::" + account + ":role/" + name
}

// partition is the partition of a region.
func partition(region string) string {
	switch {
	case len(region) > 3 && region[:3] == "cn-":
		return "aws-cn"
	case len(region) > 7 && region[:7] == "us-gov-":
		return "aws-us-gov"
	}
	return "aws"
}
