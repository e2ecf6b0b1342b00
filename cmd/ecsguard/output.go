package main

import (
	"cmp"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/sarif"
)

// output is a command's reports and what each --format needs beyond them:
// check and scan share the formats, but not their JSON document, their
// text, or what SARIF and ASFF can know.
type output struct {
	reports []rules.Report
	json    any                   // the JSON document
	text    func(io.Writer) error // the text report
	sarif   sarif.Options         // where subjects stand in the input files, tool notes
	// region is the region of ASFF findings whose subject has none (a
	// role judged offline): else the first report's, else AWS_REGION,
	// else us-east-1.
	region string
}

func (o output) write(w io.Writer, format string) error {
	switch format {
	case "json":
		return writeJSON(w, o.json)
	case "sarif":
		opts := o.sarif
		opts.ToolVersion = version()
		return sarif.Encode(w, o.reports, opts)
	case "asff":
		// The findings as the functions import them into Security Hub.
		region := o.region
		for _, r := range o.reports {
			region = cmp.Or(region, r.Region)
		}
		region = cmp.Or(region, os.Getenv("AWS_REGION"), "us-east-1")
		return writeJSON(w, asff.Findings(o.reports, time.Now(), region))
	}
	return o.text(w)
}

// writeJSON writes v indented, with <, > and & as they are.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
