// Package eventstestdata is the corpus of EventBridge events that ecsguard is
// tested with: "AWS API Call via CloudTrail" events as AWS delivers them, one
// file per case, named <source>-<eventname>-<case>.json (see README.md). Tests
// in any package read them from [FS]; a file that is not valid JSON
// (malformed-truncated.json) is part of the corpus on purpose.
package eventstestdata

import "embed"

// FS holds every *.json file of the corpus, at its root.
//
//go:embed *.json
var FS embed.FS
