package managedpolicy

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

//go:embed snapshot.json
var snapshotJSON []byte

// ErrNotInSnapshot is why [Lookup] has no document for an AWS managed
// policy.
var ErrNotInSnapshot = errors.New("AWS managed policy not in ecsguard's snapshot")

// Policy is one AWS managed policy at its default version.
type Policy struct {
	Name      string
	ARN       string // in the aws partition
	VersionID string
	Updated   string // YYYY-MM-DD
	Document  *iampolicy.Document
}

type snapshot struct {
	Source   string
	Date     string
	byPath   map[string]*Policy // "service-role/AmazonECSTaskExecutionRolePolicy"
	problems error
}

var load = sync.OnceValue(func() *snapshot {
	var raw struct {
		Source   string `json:"source"`
		Date     string `json:"date"`
		Policies []struct {
			Name      string          `json:"name"`
			ARN       string          `json:"arn"`
			VersionID string          `json:"versionId"`
			Updated   string          `json:"updated"`
			Document  json.RawMessage `json:"document"`
		} `json:"policies"`
	}
	s := &snapshot{byPath: map[string]*Policy{}}
	if err := json.Unmarshal(snapshotJSON, &raw); err != nil {
		s.problems = fmt.Errorf("snapshot.json: %w", err)
		return s
	}
	s.Source, s.Date = raw.Source, raw.Date
	var errs []error
	for _, p := range raw.Policies {
		path, ok := policyPath(p.ARN)
		if !ok {
			errs = append(errs, fmt.Errorf("snapshot.json: policy %s: ARN %q is not an AWS managed policy", p.Name, p.ARN))
			continue
		}
		doc, err := iampolicy.Parse(string(p.Document))
		if err != nil {
			errs = append(errs, fmt.Errorf("snapshot.json: policy %s: %w", p.Name, err))
			continue
		}
		s.byPath[path] = &Policy{Name: p.Name, ARN: p.ARN, VersionID: p.VersionID, Updated: p.Updated, Document: doc}
	}
	s.problems = errors.Join(errs...)
	return s
})

// Source is the npm package and version the snapshot was generated from.
func Source() string { return load().Source }

// Date is the date of the snapshot's data: the newest update in the package.
func Date() string { return load().Date }

// Lookup returns the AWS managed policy with the ARN, in any partition
// (AWS managed policies have the same path and name in each). An ARN that
// is not an AWS managed policy, or one the snapshot does not hold, is an
// error wrapping [ErrNotInSnapshot] that names the snapshot.
func Lookup(arn string) (*Policy, error) {
	s := load()
	path, ok := policyPath(arn)
	if !ok {
		return nil, fmt.Errorf("%q is not an AWS managed policy ARN", arn)
	}
	if p, ok := s.byPath[path]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("%w (%s, %s): its permissions are unknown", ErrNotInSnapshot, s.Source, s.Date)
}

// Problems reports what of the embedded snapshot could not be read; nil
// when all of it was.
func Problems() error { return load().problems }

// IsAWSManaged reports whether arn names an AWS managed policy
// (arn:PARTITION:iam::aws:policy/...).
func IsAWSManaged(arn string) bool {
	_, ok := policyPath(arn)
	return ok
}

// policyPath is the path and name of an AWS managed policy ARN.
func policyPath(arn string) (string, bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "iam" || p[3] != "" || p[4] != "aws" || !strings.HasPrefix(p[5], "policy/") {
		return "", false
	}
	return strings.TrimPrefix(p[5], "policy/"), true
}
