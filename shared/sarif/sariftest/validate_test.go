package sariftest

import "testing"

func TestValidate(t *testing.T) {
	t.Parallel()
	const driver = `"tool":{"driver":{"name":"ecsguard"}}`
	for _, tc := range []struct {
		name, log string
		valid     bool
	}{
		{"minimal", `{"version":"2.1.0","runs":[{` + driver + `}]}`, true},
		{"no-runs", `{"version":"2.1.0"}`, false},
		{"other-version", `{"version":"2.0.0","runs":[]}`, false},
		{"unknown-property", `{"version":"2.1.0","runs":[],"extra":1}`, false},
		{"bad-level", `{"version":"2.1.0","runs":[{` + driver + `,"results":[{"message":{"text":"x"},"level":"fatal"}]}]}`, false},
		{"bad-helpUri", `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"e","rules":[{"id":"R","helpUri":"not a uri"}]}}}]}`, false},
		{"not-json", `{`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := Validate([]byte(tc.log)); (err == nil) != tc.valid {
				t.Errorf("Validate(%s) = %v, want valid %v", tc.log, err, tc.valid)
			}
		})
	}
}
