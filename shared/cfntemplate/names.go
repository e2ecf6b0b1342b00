package cfntemplate

import (
	"strings"
)

// Options are the placeholders a template is resolved with. Values a
// deployment would decide are given fixed, documented stand-ins, so that
// the ARNs of the template's resources, and the references between them,
// are deterministic.
type Options struct {
	// StackName names the stack (AWS::StackName), and prefixes the names
	// CloudFormation would generate: a resource without a name property is
	// named "<StackName>-<LogicalID>", CloudFormation's generated name
	// without its random suffix
	// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html).
	// Without a stack name, the logical ID alone.
	StackName string
	Account   string // AWS::AccountId; default [PlaceholderAccount]
	Region    string // AWS::Region; default [PlaceholderRegion]
	Partition string // AWS::Partition; default "aws"
}

// The placeholders of [Options] left empty. 123456789012 is the account ID
// the AWS documentation uses in its examples.
const (
	PlaceholderAccount = "123456789012"
	PlaceholderRegion  = "us-east-1"
)

func (o Options) withDefaults() Options {
	if o.Account == "" {
		o.Account = PlaceholderAccount
	}
	if o.Region == "" {
		o.Region = PlaceholderRegion
	}
	if o.Partition == "" {
		o.Partition = "aws"
	}
	return o
}

// urlSuffix is AWS::URLSuffix: amazonaws.com, amazonaws.com.cn in China.
func (o Options) urlSuffix() string {
	if o.Partition == "aws-cn" {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// kind is what ecsguard knows of a resource type's return values: the
// property that names it, and how Ref and Fn::GetAtt derive from the name.
// Each type's "Return values" section of the CloudFormation template
// reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html).
type kind struct {
	nameProp string
	lower    bool // names are lower case (S3 buckets, ECR repositories)
	ref      func(o Options, name string, props map[string]any) string
	atts     map[string]func(o Options, name string, props map[string]any) string
}

func arn(o Options, service, region, account, resource string) string {
	return "arn:" + o.Partition + ":" + service + ":" + region + ":" + account + ":" + resource
}

func path(props map[string]any) string {
	if p, ok := props["Path"].(string); ok && p != "" {
		return p
	}
	return "/"
}

func byName(_ Options, name string, _ map[string]any) string { return name }

// secretSuffix stands for the "-" and six random characters Secrets
// Manager appends to a secret's name in its ARN.
const secretSuffix = "-XXXXXX"

var kinds = map[string]kind{
	"AWS::IAM::Role": {nameProp: "RoleName", ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, p map[string]any) string {
			return arn(o, "iam", "", o.Account, "role"+path(p)+n)
		},
	}},
	"AWS::IAM::ManagedPolicy": {nameProp: "ManagedPolicyName",
		ref: func(o Options, n string, p map[string]any) string {
			return arn(o, "iam", "", o.Account, "policy"+path(p)+n)
		},
		atts: map[string]func(Options, string, map[string]any) string{
			"PolicyArn": func(o Options, n string, p map[string]any) string {
				return arn(o, "iam", "", o.Account, "policy"+path(p)+n)
			},
		}},
	"AWS::IAM::InstanceProfile": {nameProp: "InstanceProfileName", ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, p map[string]any) string {
			return arn(o, "iam", "", o.Account, "instance-profile"+path(p)+n)
		},
	}},
	"AWS::Logs::LogGroup": {nameProp: "LogGroupName", ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, _ map[string]any) string {
			return arn(o, "logs", o.Region, o.Account, "log-group:"+n+":*")
		},
	}},
	"AWS::SecretsManager::Secret": {nameProp: "Name",
		ref: func(o Options, n string, _ map[string]any) string {
			return arn(o, "secretsmanager", o.Region, o.Account, "secret:"+n+secretSuffix)
		},
		atts: map[string]func(Options, string, map[string]any) string{
			"Id": func(o Options, n string, _ map[string]any) string {
				return arn(o, "secretsmanager", o.Region, o.Account, "secret:"+n+secretSuffix)
			},
		}},
	"AWS::SSM::Parameter": {nameProp: "Name", ref: byName},
	"AWS::ECR::Repository": {nameProp: "RepositoryName", lower: true, ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, _ map[string]any) string {
			return arn(o, "ecr", o.Region, o.Account, "repository/"+n)
		},
		"RepositoryUri": func(o Options, n string, _ map[string]any) string {
			return o.Account + ".dkr.ecr." + o.Region + "." + o.urlSuffix() + "/" + n
		},
	}},
	"AWS::S3::Bucket": {nameProp: "BucketName", lower: true, ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, _ map[string]any) string { return "arn:" + o.Partition + ":s3:::" + n },
	}},
	"AWS::DynamoDB::Table": {nameProp: "TableName", ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, _ map[string]any) string {
			return arn(o, "dynamodb", o.Region, o.Account, "table/"+n)
		},
	}},
	"AWS::SQS::Queue": {nameProp: "QueueName",
		ref: func(o Options, n string, _ map[string]any) string {
			return "https://sqs." + o.Region + "." + o.urlSuffix() + "/" + o.Account + "/" + n
		},
		atts: map[string]func(Options, string, map[string]any) string{
			"Arn":       func(o Options, n string, _ map[string]any) string { return arn(o, "sqs", o.Region, o.Account, n) },
			"QueueName": byName,
		}},
	"AWS::SNS::Topic": {nameProp: "TopicName",
		ref: func(o Options, n string, _ map[string]any) string { return arn(o, "sns", o.Region, o.Account, n) },
		atts: map[string]func(Options, string, map[string]any) string{
			"TopicArn":  func(o Options, n string, _ map[string]any) string { return arn(o, "sns", o.Region, o.Account, n) },
			"TopicName": byName,
		}},
	// A key has no name: its placeholder key ID is the generated name.
	"AWS::KMS::Key": {ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, _ map[string]any) string {
			return arn(o, "kms", o.Region, o.Account, "key/"+n)
		},
		"KeyId": byName,
	}},
	"AWS::ECS::Cluster": {nameProp: "ClusterName", ref: byName, atts: map[string]func(Options, string, map[string]any) string{
		"Arn": func(o Options, n string, _ map[string]any) string {
			return arn(o, "ecs", o.Region, o.Account, "cluster/"+n)
		},
	}},
	// A task definition's first revision: its ARN is the subject of the
	// report.
	"AWS::ECS::TaskDefinition": {nameProp: "Family", ref: taskDefinitionARN, atts: map[string]func(Options, string, map[string]any) string{
		"TaskDefinitionArn": taskDefinitionARN,
	}},
}

func taskDefinitionARN(o Options, family string, _ map[string]any) string {
	return arn(o, "ecs", o.Region, o.Account, "task-definition/"+family+":1")
}

// name is the physical name of a resource: its name property, resolved,
// or the name CloudFormation would generate.
func (r *resolver) name(id string) (string, error) {
	res := r.resources[id]
	k := kinds[typeOf(res)]
	props := properties(res)
	if k.nameProp != "" {
		if v, ok := props[k.nameProp]; ok {
			return r.str(v)
		}
	}
	n := id
	if r.opts.StackName != "" {
		n = r.opts.StackName + "-" + id
	}
	if k.lower {
		n = strings.ToLower(n)
	}
	return n, nil
}

func (r *resolver) resourceRef(id string, expr any) (any, error) {
	typ := typeOf(r.resources[id])
	k, ok := kinds[typ]
	if !ok || k.ref == nil {
		return nil, unresolved(expr, id+" is a "+typ+", whose Ref value ecsguard does not derive")
	}
	n, props, err := r.nameAndProps(id)
	if err != nil {
		return nil, err
	}
	return k.ref(r.opts, n, props), nil
}

func (r *resolver) resourceAtt(id, attr string, expr any) (any, error) {
	typ := typeOf(r.resources[id])
	f, ok := kinds[typ].atts[attr]
	if !ok {
		return nil, unresolved(expr, "attribute "+attr+" of "+id+" ("+typ+") is known only once deployed")
	}
	n, props, err := r.nameAndProps(id)
	if err != nil {
		return nil, err
	}
	return f(r.opts, n, props), nil
}

// nameAndProps are what a resource's Ref and attributes are made of.
func (r *resolver) nameAndProps(id string) (string, map[string]any, error) {
	n, err := r.name(id)
	if err != nil {
		return "", nil, err
	}
	props, err := r.resolvedProps(id)
	return n, props, err
}

// resolvedProps resolves the Path of a resource, the one property besides
// its name that an ARN is made of.
func (r *resolver) resolvedProps(id string) (map[string]any, error) {
	p, ok := properties(r.resources[id])["Path"]
	if !ok {
		return nil, nil
	}
	s, err := r.str(p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Path": s}, nil
}

func typeOf(res map[string]any) string {
	t, _ := res["Type"].(string)
	return t
}

func properties(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}
