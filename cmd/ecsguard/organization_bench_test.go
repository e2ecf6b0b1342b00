package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ecsguard/ecsguard/shared/awsfacts"
	"github.com/ecsguard/ecsguard/shared/emulator"
)

// The organization of the scale benchmark: the management account and 9
// members, each with 200 task definitions (200 families of one revision)
// and 50 roles.
const orgBenchAccounts = 10

var orgBenchShape = benchShape{revisions: 200, families: 200, roles: 50}

// BenchmarkScanOrganization scans the organization with scan
// --organization, one account at a time and --account-workers at its
// default, and one of its accounts alone as scan does without the
// organization flags: the floor of calls per account. It reports the wall
// time (ns/op), every AWS call (awscalls/op), the calls per account over
// all (awscalls/account: the scans, one AssumeRole per member,
// ListAccounts, GetCallerIdentity) and of the scans alone
// (scancalls/account), the accounts scanned, how many ran at once on
// average (concurrency: the sum of the accounts' scan times over the wall
// time) and the size of the JSON report per account. It takes about a
// minute, half of it seeding. On the emulator the accounts share one moto
// process, whose throughput bounds the wall time however many run at once.
func BenchmarkScanOrganization(b *testing.B) {
	if moto == nil {
		b.Skip("the emulator is not installed: run make emulator-tools")
	}
	ctx := context.Background()
	var names []string
	for i := 1; i < orgBenchAccounts; i++ {
		names = append(names, fmt.Sprintf("member-%02d", i))
	}
	org, err := emulator.NewOrganization(ctx, moto.URL(), emulator.NewAccount(), names...)
	if err != nil {
		b.Fatal(err)
	}
	ids := append([]string{org.Management}, memberIDs(org)...)
	errs := make(chan error, len(ids))
	for _, id := range ids {
		go func() { errs <- seedBench(ctx, emulator.Config(moto.URL(), id), id, orgBenchShape) }()
	}
	for range ids {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	// moto finds the account of a key it issued (the member roles'
	// credentials) by looking through every account, creating each one's
	// IAM in every partition the first time: a first scan pays for that,
	// so one is run before the measured ones.
	warm := scanOptions{organization: true, roleName: "ecsguard-member", workers: 8, accountWorkers: 4}
	if _, err := scanOrganization(ctx, emulator.Config(moto.URL(), org.Management), warm, nil); err != nil {
		b.Fatal(err)
	}

	b.Run("single-account", func(b *testing.B) {
		var calls int64
		for b.Loop() {
			cfg := emulator.Config(moto.URL(), ids[1])
			counter := &awsfacts.Calls{}
			counter.Count(&cfg)
			res, err := scanAccount(ctx, cfg, scanOptions{workers: 8}, nil)
			if err != nil {
				b.Fatal(err)
			}
			if res.Summary.TaskDefinitions != orgBenchShape.families {
				b.Fatalf("%d task definitions", res.Summary.TaskDefinitions)
			}
			calls += counter.Total()
		}
		b.ReportMetric(float64(calls)/float64(b.N), "awscalls/op")
	})
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("organization-account-workers-%d", workers), func(b *testing.B) {
			var res organizationResult
			for b.Loop() {
				var err error
				opts := scanOptions{organization: true, roleName: "ecsguard-member", workers: 8, accountWorkers: workers}
				res, err = scanOrganization(ctx, emulator.Config(moto.URL(), org.Management), opts, nil)
				if err != nil {
					b.Fatal(err)
				}
				if res.Summary.Scanned != orgBenchAccounts {
					b.Fatalf("scanned %d accounts: %+v", res.Summary.Scanned, res.Accounts)
				}
			}
			var scanCalls int64
			var scanSeconds float64
			for _, a := range res.Accounts {
				scanCalls += a.AWSCalls
				scanSeconds += a.Seconds
			}
			n := float64(len(res.Accounts))
			report, _ := json.Marshal(res)
			b.ReportMetric(float64(res.Summary.AWSCalls), "awscalls/op")
			b.ReportMetric(float64(res.Summary.AWSCalls)/n, "awscalls/account")
			b.ReportMetric(float64(scanCalls)/n, "scancalls/account")
			b.ReportMetric(n, "accounts")
			b.ReportMetric(scanSeconds/res.Summary.Seconds, "concurrency")
			b.ReportMetric(float64(len(report))/n/1024, "reportKiB/account")
		})
	}
}
