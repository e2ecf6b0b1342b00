package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/ecsguard/ecsguard/shared/sarif"
)

// sources says where each ARN is defined in check's input files, for the
// locations of SARIF results. Each loader of an input kind fills it; the
// first file to define an ARN keeps it.
type sources map[string]sarif.Location

func (s sources) add(arn string, l sarif.Location) {
	if _, ok := s[arn]; !ok && arn != "" {
		s[arn] = l
	}
}

// locate is the lookup the SARIF builder takes.
func (s sources) locate(arn string) (sarif.Location, bool) {
	l, ok := s[arn]
	return l, ok
}

// addTaskDefinition records a describe-task-definition output: arn at its
// "taskDefinitionArn" key, else at the "taskDefinition" object, else the
// file only.
func (s sources) addTaskDefinition(path string, data []byte, arn string) {
	pos := newPositions(path, data)
	at := pos.file()
	_ = walkJSON(data, func(keys []string, offset int, v json.Token) {
		switch {
		case len(keys) == 1 && keys[0] == "taskDefinition" && at.Line == 0:
			at = pos.at(offset)
		case len(keys) == 2 && keys[0] == "taskDefinition" && keys[1] == "taskDefinitionArn" && v == arn:
			at = pos.at(offset)
		}
	}) // the file was decoded already: a walk that stops early still placed what it saw
	s.add(arn, at)
}

// addAuthorizationDetails records a get-account-authorization-details
// output: each role at the "Arn" key of its RoleDetailList entry, each
// managed policy at that of its Policies entry.
func (s sources) addAuthorizationDetails(path string, data []byte) {
	pos := newPositions(path, data)
	_ = walkJSON(data, func(keys []string, offset int, v json.Token) {
		if len(keys) == 3 && (keys[0] == "RoleDetailList" || keys[0] == "Policies") && keys[2] == "Arn" {
			if arn, ok := v.(string); ok {
				s.add(arn, pos.at(offset))
			}
		}
	})
}

// walkJSON calls fn for every value of a JSON document with its path (keys,
// and indexes of array elements) and the byte offset where its key begins,
// or the value itself in an array. Scalars are given as encoding/json
// tokens; objects and arrays as their opening json.Delim.
func walkJSON(data []byte, fn func(path []string, offset int, v json.Token)) error {
	type frame struct {
		object  bool
		wantKey bool
		index   int
		keyAt   int
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var (
		stack []frame
		path  []string
	)
	for {
		// InputOffset is the end of the previous token: the next one
		// starts after blanks, a comma or a colon.
		at := skipSeparators(data, int(dec.InputOffset()))
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) && len(stack) > 0 {
			return io.ErrUnexpectedEOF
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack, path = stack[:len(stack)-1], path[:len(path)-1]
			continue
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.object && top.wantKey {
				top.wantKey, top.keyAt = false, at
				path[len(path)-1] = tok.(string)
				continue
			}
			if top.object {
				top.wantKey, at = true, top.keyAt
			} else {
				path[len(path)-1] = strconv.Itoa(top.index)
				top.index++
			}
		}
		fn(path[:len(path):len(path)], at, tok)
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{object: d == '{', wantKey: d == '{'})
			path = append(path, "")
		}
	}
}

func skipSeparators(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
}

// positions turns byte offsets of one file into lines and columns, both
// 1-based, columns in Unicode code points (the run's columnKind).
type positions struct {
	uri        string
	data       []byte
	lineStarts []int
}

func newPositions(path string, data []byte) positions {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return positions{uri: fileURI(path), data: data, lineStarts: starts}
}

func (p positions) file() sarif.Location { return sarif.Location{URI: p.uri} }

func (p positions) at(offset int) sarif.Location {
	line := sort.SearchInts(p.lineStarts, offset+1) - 1
	col := utf8.RuneCount(p.data[p.lineStarts[line]:offset]) + 1
	return sarif.Location{URI: p.uri, Line: line + 1, Column: col}
}

// fileURI is a path as SARIF's artifactLocation.uri: relative paths stay
// relative (to where check runs, the repository root in CI), with forward
// slashes; absolute ones become file URIs. Characters a URI may not hold
// are escaped.
func fileURI(path string) string {
	path = filepath.Clean(path)
	u := url.URL{Path: filepath.ToSlash(path)}
	if filepath.IsAbs(path) {
		u.Scheme = "file"
	}
	return u.String()
}
