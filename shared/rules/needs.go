package rules

import (
	"regexp"
	"slices"
	"strings"
)

// LaunchTypes returns the task definition's requiresCompatibilities, or
// ["EC2"] when it has none (the "compatibilities" ECS adds is ignored). The
// values are upper-cased and trimmed, empty ones dropped, and the slice is
// the caller's own.
func LaunchTypes(td *TaskDefinition) []string {
	var out []string
	if td != nil {
		for _, lt := range td.RequiresCompatibilities {
			lt = strings.ToUpper(strings.TrimSpace(lt))
			if lt != "" && !slices.Contains(out, lt) {
				out = append(out, lt)
			}
		}
	}
	if len(out) == 0 {
		return []string{"EC2"}
	}
	return out
}

// agentPullsWithExecutionRole reports whether the task can run where the
// agent pulls private ECR images and ships awslogs with the execution role:
// Fargate, external instances (ECS Anywhere) and ECS Managed Instances. On
// EC2 the container instance role does both.
func agentPullsWithExecutionRole(td *TaskDefinition) bool {
	for _, lt := range LaunchTypes(td) {
		switch lt {
		case "FARGATE", "EXTERNAL", "MANAGED_INSTANCES":
			return true
		}
	}
	return false
}

// Need is one permission the execution role must hold for the task to start.
type Need struct {
	Container string // container name, "" for task-level
	Reason    string // short, e.g. "pull image 111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1 from private ECR", "secret DB_PASSWORD", "awslogs to log group /ecs/web"
	Action    string // "ecr:BatchGetImage"
	Resource  string // the ARN the action is on; "*" for ecr:GetAuthorizationToken
}

// NeedsExecutionRole reports whether anything in the task definition needs
// an execution role.
func NeedsExecutionRole(td *TaskDefinition) bool {
	return len(ExecutionNeeds(td, "", "")) > 0
}

// ExecutionNeeds lists, deduplicated by (Action, Resource) and in a stable
// order, what the execution role needs. region and account default the ARNs;
// the task definition ARN's own region/account/partition win when it has
// them.
//
// The order is that of discovery: containers in definition order and, within
// one, image pull, registry credentials, secrets, log driver, log secret
// options, environment files, FireLens configuration. The first occurrence
// of an (Action, Resource) pair keeps its Container and Reason.
//
// What is needed (SPEC §3):
//   - a private ECR image, on a task that can run on FARGATE, EXTERNAL or
//     MANAGED_INSTANCES: ecr:GetAuthorizationToken on "*" and
//     ecr:BatchCheckLayerAvailability, ecr:GetDownloadUrlForLayer and
//     ecr:BatchGetImage on the repository, in the account and region of the
//     image's registry;
//   - the awslogs driver on those launch types: logs:CreateLogStream and
//     logs:PutLogEvents on a log stream of awslogs-group (in awslogs-region,
//     else the task's region), plus logs:CreateLogGroup on the group when
//     awslogs-create-group is "true";
//   - on any launch type, each secret (container secrets, log secretOptions):
//     secretsmanager:GetSecretValue for a Secrets Manager ARN, with any JSON
//     key and version suffix removed; ssm:GetParameters for an SSM parameter
//     ARN or name;
//   - repositoryCredentials: secretsmanager:GetSecretValue on the secret;
//   - s3 environment files and a FireLens config file in S3: s3:GetObject on
//     the object and s3:GetBucketLocation on the bucket.
//
// kms:Decrypt is never listed: the key that encrypts a secret or parameter
// is not knowable from the task definition. A Secrets Manager secret given
// by name or partial ARN (no "-" and six-character suffix) gets the suffix
// as the wildcard "-??????", so that a grant on "name-*" or on the full ARN
// pattern matches it as it would match the real secret. A secret reference
// that is an ARN of another service is not a need.
func ExecutionNeeds(td *TaskDefinition, region, account string) []Need {
	if td == nil {
		return nil
	}
	partition := ""
	if p := strings.SplitN(td.ARN, ":", 6); len(p) == 6 && p[0] == "arn" {
		if p[1] != "" {
			partition = p[1]
		}
		if p[3] != "" {
			region = p[3]
		}
		if p[4] != "" {
			account = p[4]
		}
	}
	if partition == "" {
		partition = partitionOfRegion(region)
	}
	nc := needCollector{partition: partition, region: region, account: account, seen: map[[2]string]bool{}}
	remote := agentPullsWithExecutionRole(td)
	for _, c := range td.Containers {
		if remote {
			if repo, ok := privateECRRepository(c.Image); ok {
				reason := "pull image " + c.Image + " from private ECR"
				nc.add(c.Name, reason, "ecr:GetAuthorizationToken", "*")
				for _, a := range []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"} {
					nc.add(c.Name, reason, a, repo)
				}
			}
		}
		if rc := c.RepositoryCredentials; rc != nil && strings.TrimSpace(rc.CredentialsParameter) != "" {
			nc.add(c.Name, "private registry credentials", "secretsmanager:GetSecretValue", nc.secretARN(rc.CredentialsParameter))
		}
		for _, s := range c.Secrets {
			nc.secret(c.Name, "secret "+s.Name, s.ValueFrom)
		}
		if lc := c.LogConfiguration; lc != nil {
			if remote && strings.EqualFold(lc.LogDriver, "awslogs") {
				nc.awslogs(c.Name, lc.Options)
			}
			for _, s := range lc.SecretOptions {
				nc.secret(c.Name, "log secret option "+s.Name, s.ValueFrom)
			}
		}
		for _, ef := range c.EnvironmentFiles {
			if strings.EqualFold(ef.Type, "s3") {
				nc.s3Object(c.Name, "environment file "+ef.Value, ef.Value)
			}
		}
		if fc := c.FirelensConfiguration; fc != nil && strings.EqualFold(fc.Options["config-file-type"], "s3") {
			v := fc.Options["config-file-value"]
			nc.s3Object(c.Name, "FireLens config file "+v, v)
		}
	}
	return nc.needs
}

// needCollector accumulates needs in discovery order, first occurrence of
// an (Action, Resource) pair winning.
type needCollector struct {
	partition, region, account string
	seen                       map[[2]string]bool
	needs                      []Need
}

func (nc *needCollector) add(container, reason, action, resource string) {
	k := [2]string{action, resource}
	if nc.seen[k] {
		return
	}
	nc.seen[k] = true
	nc.needs = append(nc.needs, Need{Container: container, Reason: reason, Action: action, Resource: resource})
}

// secret adds the need of one secrets or secretOptions entry.
func (nc *needCollector) secret(container, reason, valueFrom string) {
	v := strings.TrimSpace(valueFrom)
	if v == "" {
		return
	}
	if !strings.HasPrefix(v, "arn:") {
		// A bare name is an SSM parameter in the task's own region and account.
		nc.add(container, reason, "ssm:GetParameters", nc.parameterARN(v))
		return
	}
	p := strings.Split(v, ":")
	if len(p) < 6 {
		return
	}
	switch p[2] {
	case "secretsmanager":
		nc.add(container, reason, "secretsmanager:GetSecretValue", completeSecretARN(v))
	case "ssm":
		// arn:p:ssm:r:a:parameter/name; anything after a further colon is not
		// part of the resource.
		nc.add(container, reason, "ssm:GetParameters", strings.Join(p[:6], ":"))
	}
}

// secretARN is the ARN of a Secrets Manager secret given by ARN or name.
func (nc *needCollector) secretARN(ref string) string {
	ref = strings.TrimSpace(ref)
	if strings.HasPrefix(ref, "arn:") {
		return completeSecretARN(ref)
	}
	return completeSecretARN("arn:" + nc.partition + ":secretsmanager:" + nc.region + ":" + nc.account + ":secret:" + ref)
}

// parameterARN is the ARN of an SSM parameter given by name, with or without
// a leading slash.
func (nc *needCollector) parameterARN(name string) string {
	return "arn:" + nc.partition + ":ssm:" + nc.region + ":" + nc.account + ":parameter/" + strings.TrimLeft(name, "/")
}

// secretSuffix is the "-" and six random characters Secrets Manager appends
// to a secret's name in its ARN.
var secretSuffix = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)

// completeSecretARN keeps the first seven colon fields of a Secrets Manager
// reference (dropping ":json-key:version-stage:version-id") and gives a name
// without the random suffix the wildcard suffix "-??????".
func completeSecretARN(ref string) string {
	p := strings.Split(ref, ":")
	if len(p) > 7 {
		p = p[:7]
	}
	arn := strings.Join(p, ":")
	if len(p) == 7 && !secretSuffix.MatchString(p[6]) {
		arn += "-??????"
	}
	return arn
}

// awslogs adds the needs of the awslogs log driver.
func (nc *needCollector) awslogs(container string, opts map[string]string) {
	group := opts["awslogs-group"]
	reason := "awslogs to log group " + group
	if group == "" {
		// The driver cannot work without a group: judge the need on any.
		group = "*"
		reason = "awslogs without awslogs-group"
	}
	region := nc.region
	if r := opts["awslogs-region"]; r != "" {
		region = r
	}
	groupARN := "arn:" + nc.partition + ":logs:" + region + ":" + nc.account + ":log-group:" + group
	stream := container + "/task-id"
	if prefix := opts["awslogs-stream-prefix"]; prefix != "" {
		stream = prefix + "/" + stream
	}
	streamARN := groupARN + ":log-stream:" + stream
	nc.add(container, reason, "logs:CreateLogStream", streamARN)
	nc.add(container, reason, "logs:PutLogEvents", streamARN)
	if strings.EqualFold(strings.TrimSpace(opts["awslogs-create-group"]), "true") {
		nc.add(container, "awslogs creates log group "+group, "logs:CreateLogGroup", groupARN)
	}
}

// s3Object adds s3:GetObject on an object and s3:GetBucketLocation on its
// bucket. ref is an S3 object ARN; an s3:// URL is accepted too. Anything
// else is not a need.
func (nc *needCollector) s3Object(container, reason, ref string) {
	ref = strings.TrimSpace(ref)
	partition, path := nc.partition, ""
	switch {
	case strings.HasPrefix(ref, "s3://"):
		path = strings.TrimPrefix(ref, "s3://")
	case strings.HasPrefix(ref, "arn:"):
		p := strings.SplitN(ref, ":", 6)
		if len(p) != 6 || p[2] != "s3" {
			return
		}
		if p[1] != "" {
			partition = p[1]
		}
		path = p[5]
	default:
		return
	}
	bucket, _, _ := strings.Cut(path, "/")
	if bucket == "" {
		return
	}
	nc.add(container, reason, "s3:GetObject", "arn:"+partition+":s3:::"+path)
	nc.add(container, reason, "s3:GetBucketLocation", "arn:"+partition+":s3:::"+bucket)
}

// ecrHost matches a private ECR registry host: account, FIPS, region and the
// China domain; and the dual-stack form <account>.dkr-ecr[-fips].<region>.on.aws.
var ecrHost = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$|^([0-9]{12})\.dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws$`)

// privateECRRepository returns the repository ARN of an image in a private
// ECR registry: arn:<partition>:ecr:<region>:<account>:repository/<repo>,
// region and account those of the registry host. ECR Public
// (public.ecr.aws), Docker Hub and other registries are not private ECR.
func privateECRRepository(image string) (string, bool) {
	host, rest, ok := strings.Cut(strings.TrimSpace(image), "/")
	if !ok {
		return "", false
	}
	m := ecrHost.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		return "", false
	}
	account, region, cn := m[1], m[2], m[3] != ""
	if account == "" {
		account, region = m[4], m[5]
	}
	repo, _, _ := strings.Cut(rest, "@")
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo = repo[:i]
	}
	if repo == "" {
		return "", false
	}
	partition := partitionOfRegion(region)
	if cn {
		partition = "aws-cn"
	}
	return "arn:" + partition + ":ecr:" + region + ":" + account + ":repository/" + repo, true
}

// partitionOfRegion names the partition of a region: aws-cn for cn-*,
// aws-us-gov for us-gov-*, the ISO partitions, else aws.
func partitionOfRegion(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	}
	return "aws"
}
