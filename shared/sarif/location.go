// Package sarif builds SARIF 2.1.0 logs of ecsguard's verdicts, so a CI
// system (GitHub code scanning and others) shows each finding at the line
// of the input file that holds the judged task definition or role. It is
// pure: it takes verdicts and a location lookup and returns bytes.
package sarif

// Location is a place in an input file: the URI of the file (relative to
// the repository root when the file lies in it) and a 1-based line and
// column. Line 0 means the file only; Column 0 means the whole line.
type Location struct {
	URI          string
	Line, Column int
}
