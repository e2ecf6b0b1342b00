// Command infra is the CDK app that deploys ecsguard: make synth writes
// its CloudFormation templates, make deploy deploys them.
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	s, err := ParseSettings(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecsguard: bad settings:\n"+err.Error())
		os.Exit(2)
	}
	NewApp(app, s)
	app.Synth(nil)
}

// NewApp adds the deployment to app: the home stack ("Ecsguard", in the
// home region) and a forwarding stack ("Ecsguard-<region>") for each other
// region that has events for it, all checked by cdk-nag's AwsSolutions
// pack. In organization mode the home stack also deploys the member stack
// (stage "Member", synthesized first) to the member accounts.
func NewApp(app awscdk.App, s Settings) (home awscdk.Stack, forwarders []awscdk.Stack) {
	var member string
	if s.OrganizationMode() {
		member = memberTemplate(app, s)
	}
	home = NewStack(app, "Ecsguard", &StackProps{
		StackProps: awscdk.StackProps{
			Env:         &awscdk.Environment{Region: jsii.String(s.HomeRegion)},
			Description: jsii.String("ecsguard: keeps ECS task and execution roles honest"),
		},
		Settings:       s,
		MemberTemplate: member,
	})
	for _, r := range s.ForwardingRegions() {
		forwarders = append(forwarders, NewForwarderStack(app, "Ecsguard-"+r, &ForwarderProps{
			StackProps: awscdk.StackProps{
				Env:         &awscdk.Environment{Region: jsii.String(r)},
				Description: jsii.String("ecsguard: forwards " + r + " events to " + s.HomeRegion),
			},
			Settings: s,
			ECS:      slices.Contains(s.Regions, r),
			IAM:      r == iamRegion,
		}))
	}
	checkWithNag(app)
	return home, forwarders
}
