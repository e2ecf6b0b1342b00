// Package sariftest checks SARIF logs against the OASIS SARIF 2.1.0 JSON
// schema, embedded (README.md says where it comes from), for tests.
package sariftest

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed sarif-schema-2.1.0.json
var schemaJSON []byte

const schemaURL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("reading the SARIF schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // "uri" and "uri-reference" are checked, not only noted
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("adding the SARIF schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compiling the SARIF schema: %w", err)
	}
	return s, nil
})

// Validate returns an error that says where log breaks the SARIF 2.1.0
// schema, or nil.
func Validate(log []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("not SARIF 2.1.0: %w", err)
	}
	return nil
}
