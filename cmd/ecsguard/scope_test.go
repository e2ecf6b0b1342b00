package main

import (
	"slices"
	"testing"
)

// check judges the task definitions given and the roles they reference; a
// secondary role elsewhere in the export only with --all-roles, or when no
// task definition is given.
func TestCheckScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{
			// ecsEventsRole's SR-001 LOW would fail --fail-on LOW: it is
			// not this task definition's.
			name: "task-definition-only",
			args: []string{"--task-definition", tdWebAPI, "--fail-on", "LOW"},
			code: exitOK,
			want: []string{"taskDefinition " + arnWebAPI},
		},
		{
			name: "all-roles",
			args: []string{"--task-definition", tdWebAPI, "--fail-on", "LOW", "--all-roles"},
			code: exitFindings,
			want: []string{"taskDefinition " + arnWebAPI, "role " + roleEvents, "role " + roleInstance},
		},
		{
			name: "no-task-definition",
			args: []string{"--fail-on", "LOW"},
			code: exitFindings,
			want: []string{"role " + roleEvents, "role " + roleInstance},
		},
		{
			name: "no-task-definition-all-roles",
			args: []string{"--all-roles"},
			code: exitOK,
			want: []string{"role " + roleEvents, "role " + roleInstance},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, reports := runJSON(t, append(tc.args, "--iam", iamExport)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if got := subjects(reports); !slices.Equal(got, tc.want) {
				t.Errorf("subjects = %q, want %q", got, tc.want)
			}
		})
	}
}
