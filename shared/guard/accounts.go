package guard

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ecsguard/ecsguard/shared/accounts"
	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/roleuse"
)

// reader is what the pipeline reads and changes in one account: its own
// account's clients, or a member account's, through the member role.
type reader struct {
	Facts *awsfacts.Loader
	ECS   *ecs.Client
	Scan  *roleuse.Scan
	Uses  *awsfacts.UseFinder
}

// readers caches a reader per member account for the life of the process:
// the credentials under it refresh themselves before they expire.
type readers struct {
	mu sync.Mutex
	m  map[string]*reader
}

// in is the reader of account. A member role that cannot be assumed is an
// *accounts.AssumeError: the caller judges the event's subjects incomplete
// rather than dropping it.
func (h *Handler) in(ctx context.Context, account string) (*reader, error) {
	own := &reader{Facts: h.Facts, ECS: h.ECS, Scan: h.Scan, Uses: h.Uses}
	if h.Accounts == nil || h.Accounts.RoleName == "" || account == "" {
		return own, nil
	}
	self, err := h.Accounts.Self(ctx)
	if err != nil {
		return nil, err
	}
	if account == self {
		return own, nil
	}
	h.members.mu.Lock()
	r, ok := h.members.m[account]
	h.members.mu.Unlock()
	if ok {
		return r, nil
	}
	cfg, err := h.Accounts.Config(ctx, account)
	if err != nil {
		return nil, err
	}
	ecsClient := ecs.NewFromConfig(cfg)
	r = &reader{
		Facts: h.Facts.With(ecsClient, iam.NewFromConfig(cfg)),
		ECS:   ecsClient,
		Scan:  &roleuse.Scan{ECS: ecsClient, Regions: h.Config.Regions},
		Uses:  awsfacts.NewUseFinder(cfg),
	}
	h.members.mu.Lock()
	if h.members.m == nil {
		h.members.m = map[string]*reader{}
	}
	h.members.m[account] = r
	h.members.mu.Unlock()
	return r, nil
}

// member checks that the event's account is one the deployment guards: a
// member of its organization, active. It returns the account's name for
// the alert, or why the event is dropped; an error only when
// Organizations could not answer, to be retried.
func (h *Handler) member(ctx context.Context, account string) (name, drop string, err error) {
	if h.Accounts == nil || h.Accounts.Organization == "" || account == "" {
		return "", "", nil
	}
	a, err := h.Accounts.Member(ctx, account)
	switch {
	case errors.Is(err, accounts.ErrNotMember):
		return "", err.Error(), nil
	case err != nil:
		return "", "", err
	case !a.Active():
		// A suspended account, or one being closed, runs nothing: its
		// late events have nothing left to guard.
		return a.Name, fmt.Sprintf("account %s (%s) is %s in the organization: nothing runs in it", account, a.Name, a.Status), nil
	}
	return a.Name, "", nil
}
