package main

import (
	"cmp"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// writeASFF prints the reports as a JSON array of ASFF findings, built as
// the functions build the ones they import into Security Hub. A role judged
// offline has no region of its own; its findings take region, else the
// first report's, else AWS_REGION, else us-east-1.
func writeASFF(w io.Writer, reports []rules.Report, region string) error {
	for _, r := range reports {
		region = cmp.Or(region, r.Region)
	}
	region = cmp.Or(region, os.Getenv("AWS_REGION"), "us-east-1")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(asff.Findings(reports, time.Now(), region))
}
