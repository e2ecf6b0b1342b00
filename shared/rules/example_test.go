package rules_test

import (
	"fmt"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
	"github.com/ecsguard/ecsguard/shared/rules"
)

func ExampleEvaluate() {
	trust, _ := iampolicy.Parse(`{"Statement":{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}}`)
	pull, _ := iampolicy.Parse(`{"Statement":{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}}`)
	const roleARN = "arn:aws:iam::111122223333:role/shared"
	role := &rules.Role{ARN: roleARN, Name: "shared", Path: "/", Trust: trust,
		Policies: []iampolicy.Policy{{Name: "inline:pull", Document: pull}}}
	td := &rules.TaskDefinition{
		ARN:    "arn:aws:ecs:us-east-1:111122223333:task-definition/web:1",
		Family: "web", TaskRoleARN: roleARN, ExecutionRoleARN: roleARN,
		RequiresCompatibilities: []string{"FARGATE"},
		Containers:              []rules.Container{{Name: "web", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1"}},
	}
	report := rules.Evaluate(rules.Facts{TaskDefinition: td, Roles: map[string]*rules.Role{roleARN: role}})
	for _, f := range report.Findings {
		fmt.Println(f.Severity, f.Rule, f.Title)
	}
	fmt.Println("deregister at HIGH:", report.ShouldDeregister(rules.High))
	// Output:
	// HIGH TD-001 task role and execution role are the same role
	// deregister at HIGH: true
}
