package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecsguard/ecsguard/shared/accounts"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/sarif"
)

// organizationResult is what a scan of several accounts found: the
// reports of every account scanned, what references their roles, a
// summary per account and one over all of them.
type organizationResult struct {
	Reports  []rules.Report         `json:"reports"`
	UsedBy   map[string][]rules.Use `json:"usedBy"`
	Accounts []accountSummary       `json:"accounts"`
	Summary  organizationSummary    `json:"summary"`

	byAccount map[string][]rules.Report // for the text report
}

// accountSummary is one account of the scan: scanned (with the figures
// of a single-account scan), failed (with the error) or skipped (with its
// state, or why).
type accountSummary struct {
	Account string `json:"account"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	State   string `json:"state,omitempty"` // as Organizations gives it
	Error   string `json:"error,omitempty"`
	scanFigures
}

type organizationSummary struct {
	Accounts int `json:"accounts"`
	Scanned  int `json:"scanned"`
	Failed   int `json:"failed"`
	Skipped  int `json:"skipped"`
	// AWSCalls counts every call: the scans, and ListAccounts,
	// GetCallerIdentity and one AssumeRole per member account.
	scanFigures
}

// scanMany is scan with --organization or --accounts. An account that
// fails is reported with its error, and the others are scanned.
func scanMany(ctx context.Context, cfg aws.Config, opts scanOptions, stdout, stderr io.Writer) int {
	var progress func(done, total int)
	if isTerminal(stderr) {
		progress = labelledBar(stderr, "scanning accounts")
	}
	res, err := scanOrganization(ctx, cfg, opts, progress)
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: scan: %v\n", explainAWSError(err))
		return exitAWS
	}
	var notes []string
	for _, a := range res.Accounts {
		if a.Status == statusFailed {
			notes = append(notes, "account "+a.Account+named(a.Name)+" failed: "+oneLine(a.Error))
		}
	}
	err = output{reports: res.Reports, json: res, region: res.Summary.Region, sarif: sarif.Options{Notes: notes},
		text: func(w io.Writer) error { return writeAccountsText(w, res, opts.failOn) },
	}.write(stdout, opts.format)
	if err != nil {
		fmt.Fprintf(stderr, "ecsguard: writing the report: %v\n", err)
		return exitUsage
	}
	for _, a := range res.Accounts {
		if a.Status == statusFailed {
			fmt.Fprintf(stderr, "ecsguard: account %s%s failed: %s\n", a.Account, named(a.Name), oneLine(a.Error))
		}
	}
	s := res.Summary
	fmt.Fprintf(stderr, "ecsguard: scanned %d of %d accounts (%d failed, %d skipped): %d task definitions and %d roles in %s with %d AWS calls\n",
		s.Scanned, s.Accounts, s.Failed, s.Skipped, s.TaskDefinitions, s.Roles, s.Region, s.AWSCalls)
	switch {
	case s.Failed > 0:
		return exitAWS
	case failed(res.Reports, opts.failOn):
		return exitFindings
	}
	return exitOK
}

// scanOrganization chooses the accounts and scans them, each in its own
// account: with the caller's credentials for the caller's account, with
// the member role (--role-name) for the others. The error is non-nil only
// when there is nothing to scan with: the caller's credentials fail, or
// Organizations cannot list the accounts.
func scanOrganization(ctx context.Context, cfg aws.Config, opts scanOptions, progress func(done, total int)) (organizationResult, error) {
	start := time.Now()
	calls := countCalls(&cfg)
	dir := &accounts.Directory{Base: cfg, RoleName: opts.roleName, Session: "ecsguard-scan"}
	if opts.organization {
		dir.Allowed = opts.accounts
	}
	if _, err := dir.Self(ctx); err != nil {
		return organizationResult{}, err
	}
	scan, skipped, err := chooseAccounts(ctx, dir, opts)
	if err != nil {
		return organizationResult{}, err
	}
	scans := scanAccounts(ctx, dir, scan, opts, progress)
	for _, a := range skipped {
		scans = append(scans, accountScan{summary: a})
	}
	slices.SortFunc(scans, func(a, b accountScan) int { return cmp.Compare(a.summary.Account, b.summary.Account) })

	res := organizationResult{Reports: []rules.Report{}, UsedBy: map[string][]rules.Use{}, byAccount: map[string][]rules.Report{}}
	s := &res.Summary
	for _, sc := range scans {
		a := sc.summary
		if a.Status != statusScanned {
			a.scanFigures = summarize(nil) // zero, with {} rather than null for the maps
		}
		a.Region = strings.Join(opts.scanRegions(cfg), ",")
		res.Accounts = append(res.Accounts, a)
		switch a.Status {
		case statusScanned:
			s.Scanned++
			s.TaskDefinitions += a.TaskDefinitions
			s.Roles += a.Roles
			res.Reports = append(res.Reports, sc.result.Reports...)
			maps.Copy(res.UsedBy, sc.result.UsedBy) // role ARNs: no two accounts share one
			res.byAccount[a.Account] = sc.result.Reports
		case statusFailed:
			s.Failed++
		case statusSkipped:
			s.Skipped++
		}
	}
	figures := summarize(res.Reports)
	figures.Region, figures.TaskDefinitions, figures.Roles = strings.Join(opts.scanRegions(cfg), ","), s.TaskDefinitions, s.Roles
	figures.AWSCalls, figures.Seconds = calls.Total(), time.Since(start).Round(time.Millisecond).Seconds()
	s.scanFigures, s.Accounts = figures, len(res.Accounts)
	return res, nil
}

// accountScan is the outcome of one account.
type accountScan struct {
	summary accountSummary
	result  scanResult
}

// scanAccounts scans the accounts, opts.accountWorkers at a time, each as
// a single-account scan does (its describes opts.workers at a time). AWS
// sets request rates per account and region, and every account's clients
// have their own adaptive retryer, so an account that is throttled slows
// down alone. An account whose role cannot be assumed, or whose scan
// fails, is reported failed with the error; the others go on.
func scanAccounts(ctx context.Context, dir *accounts.Directory, list []accounts.Account, opts scanOptions, progress func(done, total int)) []accountScan {
	out := make([]accountScan, len(list))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	slots := make(chan struct{}, opts.accountWorkers)
	for i, a := range list {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			out[i] = scanOne(ctx, dir, a, opts)
			if progress != nil {
				mu.Lock()
				done++
				progress(done, len(list))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

func scanOne(ctx context.Context, dir *accounts.Directory, a accounts.Account, opts scanOptions) accountScan {
	sc := accountScan{summary: accountSummary{Account: a.ID, Name: a.Name, State: a.Status}}
	cfg, err := dir.Config(ctx, a.ID)
	if err == nil {
		sc.result, err = scanAccount(ctx, cfg, opts, nil)
	}
	if err != nil {
		sc.summary.Status, sc.summary.Error = statusFailed, err.Error()
		return sc
	}
	for i, r := range sc.result.Reports {
		if r.Account == "" { // a task definition that could not be described, named by its family
			sc.result.Reports[i].Account = a.ID
		}
	}
	sc.summary.Status, sc.summary.scanFigures = statusScanned, sc.result.Summary.scanFigures
	return sc
}
