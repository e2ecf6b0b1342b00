package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ecsguard/ecsguard/shared/awsexport"
	"github.com/ecsguard/ecsguard/shared/cfntemplate"
	"github.com/ecsguard/ecsguard/shared/rules"
	"github.com/ecsguard/ecsguard/shared/sarif"
)

// loadTemplate reads one CloudFormation template (--template). Its stack
// is named for the file, as cdk.out names each template for its stack
// (cdk.out/MyStack.template.json), so that the names CloudFormation would
// generate stay distinct across templates. With an IAM export, the
// template's account (AWS::AccountId) is the export's, so that a role of
// the account the template references by ARN is read from the export.
func loadTemplate(path string, account *awsexport.Account, src sources) (*cfntemplate.Template, error) {
	opts := cfntemplate.Options{StackName: stackName(path), Account: exportAccount(account)}
	t, data, err := load(path, func(b []byte) (*cfntemplate.Template, error) { return cfntemplate.Parse(b, opts) })
	if err != nil {
		return nil, err
	}
	uri := newPositions(path, data).file().URI
	for _, arn := range slices.Sorted(maps.Keys(t.Positions)) {
		p := t.Positions[arn]
		src.add(arn, sarif.Location{URI: uri, Line: p.Line, Column: p.Column})
	}
	return t, nil
}

// stackName is the file name without its template extensions.
func stackName(path string) string {
	name := filepath.Base(path)
	for _, ext := range []string{".json", ".yaml", ".yml", ".template"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// exportAccount is the account of most of the export's roles; "" without
// roles (the template's placeholder account is used).
func exportAccount(account *awsexport.Account) string {
	counts := map[string]int{}
	for arn := range account.Roles {
		counts[arnAccount(arn)]++
	}
	best := ""
	for _, a := range slices.Sorted(maps.Keys(counts)) {
		if counts[a] > counts[best] {
			best = a
		}
	}
	return best
}

// evaluateTemplates judges the task definitions of the templates, each
// with its roles from its template or else from the export, then the
// secondary ECS roles each template defines. TD-013 counts the families of
// each template that share a task role.
func evaluateTemplates(templates []*cfntemplate.Template, account *awsexport.Account) []rules.Report {
	ctx := context.Background()
	cache := rules.NewCache()
	var reports []rules.Report
	for _, t := range templates {
		families := map[string][]string{}
		var facts []rules.Facts
		var outside rules.RoleSource
		if account.Roles != nil { // an export was given
			outside = exportRoles{account}
		}
		for _, td := range t.TaskDefinitions {
			f, _ := t.Facts(ctx, td, outside) // neither a template nor an export fails transiently
			f.Cache = cache
			facts = append(facts, f)
			if arn := td.TaskRoleARN; arn != "" && !slices.Contains(families[arn], td.Family) {
				families[arn] = append(families[arn], td.Family)
			}
		}
		for _, f := range facts {
			f.Families = families
			reports = append(reports, rules.Evaluate(f))
		}
		for _, arn := range slices.Sorted(maps.Keys(t.Roles)) {
			role := t.Roles[arn]
			if len(rules.SecondaryClasses(role)) == 0 {
				continue
			}
			reports = append(reports, rules.Evaluate(rules.Facts{
				Account: cmp.Or(arnAccount(arn), t.Options.Account), Region: t.Options.Region, Role: role, Cache: cache,
			}))
		}
	}
	return reports
}

// loadTemplates reads every --template; the first that cannot be read is
// reported on stderr and returned.
func loadTemplates(paths []string, account *awsexport.Account, src sources, stderr io.Writer) ([]*cfntemplate.Template, error) {
	var out []*cfntemplate.Template
	for _, path := range paths {
		t, err := loadTemplate(path, account, src)
		if err != nil {
			fmt.Fprintf(stderr, "ecsguard: %s: %v\n", path, err)
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
