// Package cfntemplate reads a CloudFormation template (JSON or YAML, as
// written by hand or synthesized by the CDK into cdk.out) and builds, for
// each AWS::ECS::TaskDefinition, the facts the rules judge: the task
// definition and the roles the template defines for it.
//
// Intrinsic functions are resolved where the template alone decides them:
// Ref and Fn::GetAtt to the template's resources and parameters with a
// Default, pseudo parameters (to documented placeholders, [Options]),
// Fn::Join, Fn::Sub, Fn::Select, Fn::Split and Fn::FindInMap. What only a
// deployment knows (Fn::ImportValue, a parameter without a Default, a
// value that depends on a condition, a role defined outside the template)
// is never guessed: it is a [rules.FactError] naming the resource and the
// expression, so the report is incomplete.
//
// AWS managed policies come from the snapshot of package managedpolicy. The
// package does no AWS call; it reads no file itself ([Parse] takes bytes).
package cfntemplate
