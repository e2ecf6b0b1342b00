package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/accounts"
)

// parseAccountIDs reads --accounts: comma-separated 12-digit account ids,
// kept in order, each once.
func parseAccountIDs(s string) ([]string, error) {
	var ids []string
	for id := range strings.SplitSeq(s, ",") {
		id = strings.TrimSpace(id)
		if !isAccountID(id) {
			return nil, fmt.Errorf("%q is not a 12-digit account id", id)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Account statuses in a scan of several accounts.
const (
	statusScanned = "scanned"
	statusFailed  = "failed"
	statusSkipped = "skipped"
)

// chooseAccounts returns the accounts to scan and those skipped, each
// with why. With --organization they are the organization's accounts
// (those of --accounts only, when given), every page of ListAccounts,
// which only the management account or a delegated administrator may call
// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html).
// An account whose State is not ACTIVE (PENDING_ACTIVATION, SUSPENDED,
// PENDING_CLOSURE, CLOSED) runs nothing and its member role cannot be
// assumed, so it is skipped with its state; State, not Status, which was
// retired on 9 September 2026
// (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html;
// accounts.Account.Status holds the State). An account of --accounts that
// the organization does not list is skipped too. Without --organization
// they are the accounts of --accounts, and Organizations is not asked:
// the caller need only be able to assume the member role.
func chooseAccounts(ctx context.Context, dir *accounts.Directory, opts scanOptions) (scan []accounts.Account, skipped []accountSummary, err error) {
	if !opts.organization {
		for _, id := range opts.accounts {
			scan = append(scan, accounts.Account{ID: id})
		}
		return scan, nil, nil
	}
	listed, err := dir.List(ctx) // dir.Allowed holds --accounts
	if err != nil {
		return nil, nil, err
	}
	found := map[string]bool{}
	for _, a := range listed {
		found[a.ID] = true
		if a.Active() {
			scan = append(scan, a)
			continue
		}
		skipped = append(skipped, accountSummary{Account: a.ID, Name: a.Name, Status: statusSkipped, State: a.Status})
	}
	for _, id := range opts.accounts {
		if !found[id] {
			skipped = append(skipped, accountSummary{Account: id, Status: statusSkipped, Error: "not an account of the organization"})
		}
	}
	return scan, skipped, nil
}
