package rules_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ecsguard/ecsguard/shared/rules"
)

func TestLaunchTypes(t *testing.T) {
	tests := []struct {
		name string
		td   *rules.TaskDefinition
		want []string
	}{
		{"nil task definition", nil, []string{"EC2"}},
		{"absent means EC2", &rules.TaskDefinition{}, []string{"EC2"}},
		{"empty list means EC2", &rules.TaskDefinition{RequiresCompatibilities: []string{}}, []string{"EC2"}},
		{"fargate", &rules.TaskDefinition{RequiresCompatibilities: []string{"FARGATE"}}, []string{"FARGATE"}},
		{"several, in order", &rules.TaskDefinition{RequiresCompatibilities: []string{"EC2", "FARGATE", "EXTERNAL"}}, []string{"EC2", "FARGATE", "EXTERNAL"}},
		{"managed instances", &rules.TaskDefinition{RequiresCompatibilities: []string{"MANAGED_INSTANCES"}}, []string{"MANAGED_INSTANCES"}},
		{"normalised case, blanks and repeats", &rules.TaskDefinition{RequiresCompatibilities: []string{" fargate", "", "FARGATE", "ec2"}}, []string{"FARGATE", "EC2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules.LaunchTypes(tt.td)
			if !slices.Equal(got, tt.want) {
				t.Errorf("LaunchTypes = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLaunchTypesReturnsACopy(t *testing.T) {
	td := &rules.TaskDefinition{RequiresCompatibilities: []string{"FARGATE"}}
	rules.LaunchTypes(td)[0] = "EC2"
	if td.RequiresCompatibilities[0] != "FARGATE" {
		t.Errorf("LaunchTypes aliases requiresCompatibilities")
	}
}

const (
	ndAccount    = "111122223333"
	ndRegion     = "us-east-1"
	ndTaskDefARN = "arn:aws:ecs:us-east-1:111122223333:task-definition/web:3"
	ndECRImage   = "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1"
	ndRepo       = "arn:aws:ecr:us-east-1:111122223333:repository/web"
)

// ndPull is the four needs of pulling image from repository repo.
func ndPull(container, image, repo string) []rules.Need {
	reason := "pull image " + image + " from private ECR"
	return []rules.Need{
		{container, reason, "ecr:GetAuthorizationToken", "*"},
		{container, reason, "ecr:BatchCheckLayerAvailability", repo},
		{container, reason, "ecr:GetDownloadUrlForLayer", repo},
		{container, reason, "ecr:BatchGetImage", repo},
	}
}

func ndAwslogs(group, prefix string) *rules.LogConfiguration {
	opts := map[string]string{"awslogs-group": group, "awslogs-region": ndRegion}
	if prefix != "" {
		opts["awslogs-stream-prefix"] = prefix
	}
	return &rules.LogConfiguration{LogDriver: "awslogs", Options: opts}
}

func ndTaskDef(launch []string, cs ...rules.Container) *rules.TaskDefinition {
	return &rules.TaskDefinition{ARN: ndTaskDefARN, Family: "web", Revision: 3, RequiresCompatibilities: launch, Containers: cs}
}

var (
	ndFargate = []string{"FARGATE"}
	ndEC2     = []string{"EC2"}
)

func ndConcat(nss ...[]rules.Need) []rules.Need {
	var out []rules.Need
	for _, ns := range nss {
		out = append(out, ns...)
	}
	return out
}

func TestExecutionNeeds(t *testing.T) {
	const (
		smARN    = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf"
		ssmARN   = "arn:aws:ssm:us-east-1:111122223333:parameter/prod/db/host"
		envFile  = "arn:aws:s3:::config-bucket/web/prod.env"
		envBkt   = "arn:aws:s3:::config-bucket"
		stream   = "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web:log-stream:ecs/app/task-id"
		group    = "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web"
		toGroup  = "awslogs to log group /ecs/web"
		hubImage = "nginx:1.25"
	)
	tests := []struct {
		name            string
		td              *rules.TaskDefinition
		region, account string
		want            []rules.Need
	}{
		{name: "nil task definition", td: nil},
		{name: "no containers", td: ndTaskDef(ndFargate)},
		{
			name: "EC2 only: private ECR image and awslogs need nothing",
			td:   ndTaskDef(ndEC2, rules.Container{Name: "app", Image: ndECRImage, LogConfiguration: ndAwslogs("/ecs/web", "ecs")}),
		},
		{
			name: "absent requiresCompatibilities is EC2",
			td:   ndTaskDef(nil, rules.Container{Name: "app", Image: ndECRImage, LogConfiguration: ndAwslogs("/ecs/web", "ecs")}),
		},
		{
			name: "Fargate with Docker Hub images needs nothing",
			td: ndTaskDef(ndFargate,
				rules.Container{Name: "a", Image: hubImage},
				rules.Container{Name: "b", Image: "docker.io/library/nginx:latest"},
				rules.Container{Name: "c", Image: "ghcr.io/acme/app@sha256:0123456789abcdef"},
				rules.Container{Name: "d", Image: "busybox"}),
		},
		{
			name: "Fargate with ECR Public needs nothing",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "public.ecr.aws/nginx/nginx:1.25"}),
		},
		{
			name: "look-alike hosts are not private ECR",
			td: ndTaskDef(ndFargate,
				rules.Container{Name: "a", Image: "11112222333.dkr.ecr.us-east-1.amazonaws.com/web:1"},     // 11 digits
				rules.Container{Name: "b", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com.evil/web"}, // other domain
				rules.Container{Name: "c", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com"}),         // no repository
		},
		{
			name: "Fargate with private ECR",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: ndECRImage}),
			want: ndPull("app", ndECRImage, ndRepo),
		},
		{
			name: "EXTERNAL with private ECR",
			td:   ndTaskDef([]string{"EXTERNAL"}, rules.Container{Name: "app", Image: ndECRImage}),
			want: ndPull("app", ndECRImage, ndRepo),
		},
		{
			name: "MANAGED_INSTANCES with private ECR",
			td:   ndTaskDef([]string{"MANAGED_INSTANCES"}, rules.Container{Name: "app", Image: ndECRImage}),
			want: ndPull("app", ndECRImage, ndRepo),
		},
		{
			name: "EC2 and Fargate with private ECR",
			td:   ndTaskDef([]string{"EC2", "FARGATE"}, rules.Container{Name: "app", Image: ndECRImage}),
			want: ndPull("app", ndECRImage, ndRepo),
		},
		{
			name: "cross-account, cross-region repository from the image host, nested name, digest",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "444455556666.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:0123456789abcdef"}),
			want: ndPull("app", "444455556666.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:0123456789abcdef",
				"arn:aws:ecr:eu-west-1:444455556666:repository/team/web"),
		},
		{
			name: "tag and digest",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.2@sha256:abc"}),
			want: ndPull("app", "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1.2@sha256:abc", ndRepo),
		},
		{
			name: "China partition from the image host",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web:1"}),
			want: ndPull("app", "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/web:1", "arn:aws-cn:ecr:cn-north-1:111122223333:repository/web"),
		},
		{
			name: "FIPS endpoint in GovCloud",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:1"}),
			want: ndPull("app", "111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web:1", "arn:aws-us-gov:ecr:us-gov-west-1:111122223333:repository/web"),
		},
		{
			name: "dual-stack endpoint",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "111122223333.dkr-ecr.us-east-1.on.aws/web:1"}),
			want: ndPull("app", "111122223333.dkr-ecr.us-east-1.on.aws/web:1", ndRepo),
		},
		{
			name: "awslogs on Fargate with a stream prefix",
			td:   ndTaskDef(ndFargate, rules.Container{Name: "app", Image: hubImage, LogConfiguration: ndAwslogs("/ecs/web", "ecs")}),
			want: []rules.Need{
				{"app", toGroup, "logs:CreateLogStream", stream},
				{"app", toGroup, "logs:PutLogEvents", stream},
			},
		},
		{
			name: "awslogs without a prefix, region from the option",
			td: ndTaskDef(ndFargate, rules.Container{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{
				LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1"},
			}}),
			want: []rules.Need{
				{"app", toGroup, "logs:CreateLogStream", "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/web:log-stream:app/task-id"},
				{"app", toGroup, "logs:PutLogEvents", "arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/web:log-stream:app/task-id"},
			},
		},
		{
			name: "awslogs region defaults to the task's",
			td: ndTaskDef(ndFargate, rules.Container{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{
				LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/web", "awslogs-stream-prefix": "ecs"},
			}}),
			want: []rules.Need{
				{"app", toGroup, "logs:CreateLogStream", stream},
				{"app", toGroup, "logs:PutLogEvents", stream},
			},
		},
		{
			name: "awslogs-create-group true, any case",
			td: ndTaskDef(ndFargate, rules.Container{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{
				LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/web", "awslogs-stream-prefix": "ecs", "awslogs-create-group": "TRUE"},
			}}),
			want: []rules.Need{
				{"app", toGroup, "logs:CreateLogStream", stream},
				{"app", toGroup, "logs:PutLogEvents", stream},
				{"app", "awslogs creates log group /ecs/web", "logs:CreateLogGroup", group},
			},
		},
		{
			name: "awslogs-create-group false",
			td: ndTaskDef(ndFargate, rules.Container{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{
				LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/web", "awslogs-stream-prefix": "ecs", "awslogs-create-group": "false"},
			}}),
			want: []rules.Need{
				{"app", toGroup, "logs:CreateLogStream", stream},
				{"app", toGroup, "logs:PutLogEvents", stream},
			},
		},
		{
			name: "another log driver on Fargate needs nothing",
			td: ndTaskDef(ndFargate, rules.Container{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{
				LogDriver: "awsfirelens", Options: map[string]string{"Name": "cloudwatch"},
			}}),
		},
		{
			name: "Secrets Manager secret on EC2",
			td:   ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{{Name: "DB_PASSWORD", ValueFrom: smARN}}}),
			want: []rules.Need{{"app", "secret DB_PASSWORD", "secretsmanager:GetSecretValue", smARN}},
		},
		{
			name: "json key, version stage and version id are stripped",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{
				{Name: "DB_PASSWORD", ValueFrom: smARN + ":password:AWSCURRENT:"},
				{Name: "DB_USER", ValueFrom: smARN + ":username::6aa9b5d0-0000-4000-8000-000000000000"},
				{Name: "DB_HOST", ValueFrom: smARN + ":host::"},
			}}),
			want: []rules.Need{{"app", "secret DB_PASSWORD", "secretsmanager:GetSecretValue", smARN}},
		},
		{
			name: "partial Secrets Manager ARN gets a wildcard suffix",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{
				{Name: "API_KEY", ValueFrom: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/api:key::"},
			}}),
			want: []rules.Need{{"app", "secret API_KEY", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/api-??????"}},
		},
		{
			name: "SSM parameter by ARN, by name and by path",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{
				{Name: "DB_HOST", ValueFrom: ssmARN},
				{Name: "FLAG", ValueFrom: "feature-flag"},
				{Name: "DB_PORT", ValueFrom: "/prod/db/port"},
			}}),
			want: []rules.Need{
				{"app", "secret DB_HOST", "ssm:GetParameters", ssmARN},
				{"app", "secret FLAG", "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/feature-flag"},
				{"app", "secret DB_PORT", "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/prod/db/port"},
			},
		},
		{
			name: "SSM parameter in another region and account keeps its ARN",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{
				{Name: "X", ValueFrom: "arn:aws:ssm:eu-west-1:444455556666:parameter/shared/x"},
			}}),
			want: []rules.Need{{"app", "secret X", "ssm:GetParameters", "arn:aws:ssm:eu-west-1:444455556666:parameter/shared/x"}},
		},
		{
			name: "empty valueFrom and ARNs of other services are not needs",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{
				{Name: "A", ValueFrom: ""},
				{Name: "B", ValueFrom: "arn:aws:s3:::bucket/key"},
			}}),
		},
		{
			name: "log secretOptions on EC2",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{
				LogDriver:     "splunk",
				Options:       map[string]string{"splunk-url": "https://splunk.example.com"},
				SecretOptions: []rules.Secret{{Name: "splunk-token", ValueFrom: smARN}, {Name: "splunk-index", ValueFrom: "/prod/splunk/index"}},
			}}),
			want: []rules.Need{
				{"app", "log secret option splunk-token", "secretsmanager:GetSecretValue", smARN},
				{"app", "log secret option splunk-index", "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/prod/splunk/index"},
			},
		},
		{
			name: "repositoryCredentials by ARN on EC2",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: "registry.example.com/app:1",
				RepositoryCredentials: &rules.RepositoryCredentials{CredentialsParameter: "arn:aws:secretsmanager:us-east-1:111122223333:secret:dockerhub-Xy12Zw"}}),
			want: []rules.Need{{"app", "private registry credentials", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:dockerhub-Xy12Zw"}},
		},
		{
			name: "repositoryCredentials by name",
			td: ndTaskDef(ndEC2, rules.Container{Name: "app", Image: "registry.example.com/app:1",
				RepositoryCredentials: &rules.RepositoryCredentials{CredentialsParameter: "dockerhub"}}),
			want: []rules.Need{{"app", "private registry credentials", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:dockerhub-??????"}},
		},
		{
			name: "empty repositoryCredentials is not a need",
			td:   ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, RepositoryCredentials: &rules.RepositoryCredentials{}}),
		},
		{
			name: "s3 environment file",
			td:   ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, EnvironmentFiles: []rules.EnvironmentFile{{Type: "s3", Value: envFile}}}),
			want: []rules.Need{
				{"app", "environment file " + envFile, "s3:GetObject", envFile},
				{"app", "environment file " + envFile, "s3:GetBucketLocation", envBkt},
			},
		},
		{
			name: "environment file of another type is not a need",
			td:   ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, EnvironmentFiles: []rules.EnvironmentFile{{Type: "file", Value: "/etc/app.env"}}}),
		},
		{
			name: "FireLens config file in S3",
			td: ndTaskDef(ndEC2, rules.Container{Name: "log_router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
				FirelensConfiguration: &rules.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{
					"config-file-type": "s3", "config-file-value": "arn:aws:s3:::config-bucket/fluent-bit/extra.conf",
				}}}),
			want: []rules.Need{
				{"log_router", "FireLens config file arn:aws:s3:::config-bucket/fluent-bit/extra.conf", "s3:GetObject", "arn:aws:s3:::config-bucket/fluent-bit/extra.conf"},
				{"log_router", "FireLens config file arn:aws:s3:::config-bucket/fluent-bit/extra.conf", "s3:GetBucketLocation", envBkt},
			},
		},
		{
			name: "FireLens config file in the image is not a need",
			td: ndTaskDef(ndFargate, rules.Container{Name: "log_router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
				FirelensConfiguration: &rules.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{
					"config-file-type": "file", "config-file-value": "/fluent-bit/configs/parse-json.conf",
				}}}),
		},
		{
			name: "FireLens without options is not a need",
			td: ndTaskDef(ndFargate, rules.Container{Name: "log_router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
				FirelensConfiguration: &rules.FirelensConfiguration{Type: "fluentbit"}}),
		},
		{
			name: "deduplicated across containers, first occurrence kept",
			td: ndTaskDef(ndFargate,
				rules.Container{Name: "app", Image: ndECRImage, LogConfiguration: ndAwslogs("/ecs/web", "ecs"),
					Secrets: []rules.Secret{{Name: "DB_PASSWORD", ValueFrom: smARN}}},
				rules.Container{Name: "worker", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:2",
					Secrets: []rules.Secret{{Name: "DB_PASSWORD", ValueFrom: smARN + ":password::"}}},
				rules.Container{Name: "sidecar", Image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/proxy:1"},
			),
			want: ndConcat(
				ndPull("app", ndECRImage, ndRepo),
				[]rules.Need{
					{"app", "secret DB_PASSWORD", "secretsmanager:GetSecretValue", smARN},
					{"app", toGroup, "logs:CreateLogStream", stream},
					{"app", toGroup, "logs:PutLogEvents", stream},
				},
				ndPull("sidecar", "111122223333.dkr.ecr.us-east-1.amazonaws.com/proxy:1", "arn:aws:ecr:us-east-1:111122223333:repository/proxy")[1:],
			),
		},
		{
			name: "everything in one container, in the documented order",
			td: ndTaskDef(ndFargate, rules.Container{
				Name: "app", Image: ndECRImage,
				RepositoryCredentials: &rules.RepositoryCredentials{CredentialsParameter: smARN},
				Secrets:               []rules.Secret{{Name: "P", ValueFrom: "p"}},
				LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs",
					Options:       map[string]string{"awslogs-group": "/ecs/web", "awslogs-stream-prefix": "ecs"},
					SecretOptions: []rules.Secret{{Name: "o", ValueFrom: "o"}}},
				EnvironmentFiles: []rules.EnvironmentFile{{Type: "s3", Value: envFile}},
			}),
			want: ndConcat(ndPull("app", ndECRImage, ndRepo), []rules.Need{
				{"app", "private registry credentials", "secretsmanager:GetSecretValue", smARN},
				{"app", "secret P", "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/p"},
				{"app", toGroup, "logs:CreateLogStream", stream},
				{"app", toGroup, "logs:PutLogEvents", stream},
				{"app", "log secret option o", "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/o"},
				{"app", "environment file " + envFile, "s3:GetObject", envFile},
				{"app", "environment file " + envFile, "s3:GetBucketLocation", envBkt},
			}),
		},
		{
			name:    "region and account arguments default the ARNs when the task definition has no ARN",
			td:      &rules.TaskDefinition{RequiresCompatibilities: ndFargate, Containers: []rules.Container{{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "g"}}, Secrets: []rules.Secret{{Name: "S", ValueFrom: "s"}}}}},
			region:  "eu-central-1",
			account: "777788889999",
			want: []rules.Need{
				{"app", "secret S", "ssm:GetParameters", "arn:aws:ssm:eu-central-1:777788889999:parameter/s"},
				{"app", "awslogs to log group g", "logs:CreateLogStream", "arn:aws:logs:eu-central-1:777788889999:log-group:g:log-stream:app/task-id"},
				{"app", "awslogs to log group g", "logs:PutLogEvents", "arn:aws:logs:eu-central-1:777788889999:log-group:g:log-stream:app/task-id"},
			},
		},
		{
			name:    "the task definition ARN's region and account win over the arguments",
			td:      ndTaskDef(ndEC2, rules.Container{Name: "app", Image: hubImage, Secrets: []rules.Secret{{Name: "S", ValueFrom: "/s"}}}),
			region:  "eu-central-1",
			account: "777788889999",
			want:    []rules.Need{{"app", "secret S", "ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/s"}},
		},
		{
			name: "China partition from the task definition ARN",
			td: &rules.TaskDefinition{ARN: "arn:aws-cn:ecs:cn-northwest-1:111122223333:task-definition/web:1", RequiresCompatibilities: ndFargate,
				Containers: []rules.Container{{Name: "app", Image: hubImage, LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs",
					Options: map[string]string{"awslogs-group": "/ecs/web", "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}},
					Secrets: []rules.Secret{{Name: "S", ValueFrom: "s"}}}}},
			region:  ndRegion,
			account: ndAccount,
			want: []rules.Need{
				{"app", "secret S", "ssm:GetParameters", "arn:aws-cn:ssm:cn-northwest-1:111122223333:parameter/s"},
				{"app", toGroup, "logs:CreateLogStream", "arn:aws-cn:logs:cn-northwest-1:111122223333:log-group:/ecs/web:log-stream:ecs/app/task-id"},
				{"app", toGroup, "logs:PutLogEvents", "arn:aws-cn:logs:cn-northwest-1:111122223333:log-group:/ecs/web:log-stream:ecs/app/task-id"},
				{"app", "awslogs creates log group /ecs/web", "logs:CreateLogGroup", "arn:aws-cn:logs:cn-northwest-1:111122223333:log-group:/ecs/web"},
			},
		},
		{
			name:    "China partition from the region argument",
			td:      &rules.TaskDefinition{Containers: []rules.Container{{Name: "app", Image: hubImage, Secrets: []rules.Secret{{Name: "S", ValueFrom: "s"}}}}},
			region:  "cn-north-1",
			account: ndAccount,
			want:    []rules.Need{{"app", "secret S", "ssm:GetParameters", "arn:aws-cn:ssm:cn-north-1:111122223333:parameter/s"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rules.ExecutionNeeds(tt.td, tt.region, tt.account)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ExecutionNeeds:\n%s\nwant:\n%s", ndFormat(got), ndFormat(tt.want))
			}
			for _, n := range got {
				if n.Action == "kms:Decrypt" {
					t.Errorf("kms:Decrypt listed as a need: %+v", n)
				}
			}
			if again := rules.ExecutionNeeds(tt.td, tt.region, tt.account); !slices.Equal(got, again) {
				t.Errorf("order not stable:\n%s\nthen:\n%s", ndFormat(got), ndFormat(again))
			}
			if n := rules.NeedsExecutionRole(tt.td); n != (len(tt.want) > 0) {
				t.Errorf("NeedsExecutionRole = %v, want %v", n, len(tt.want) > 0)
			}
		})
	}
}

func ndFormat(ns []rules.Need) string {
	if len(ns) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "  %q %q %s %s\n", n.Container, n.Reason, n.Action, n.Resource)
	}
	return b.String()
}

func TestNeedsExecutionRole(t *testing.T) {
	tests := []struct {
		name string
		td   *rules.TaskDefinition
		want bool
	}{
		{"nil", nil, false},
		{"Docker Hub on Fargate without logs", ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "nginx"}), false},
		{"private ECR on EC2", ndTaskDef(ndEC2, rules.Container{Name: "app", Image: ndECRImage}), false},
		{"awslogs on EC2", ndTaskDef(ndEC2, rules.Container{Name: "app", Image: "nginx", LogConfiguration: ndAwslogs("/ecs/web", "ecs")}), false},
		{"awslogs without requiresCompatibilities", ndTaskDef(nil, rules.Container{Name: "app", Image: "nginx", LogConfiguration: ndAwslogs("/ecs/web", "ecs")}), false},
		{"private ECR on Fargate", ndTaskDef(ndFargate, rules.Container{Name: "app", Image: ndECRImage}), true},
		{"awslogs on Fargate", ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "nginx", LogConfiguration: ndAwslogs("/ecs/web", "ecs")}), true},
		{"awslogs on external", ndTaskDef([]string{"EXTERNAL"}, rules.Container{Name: "app", Image: "nginx", LogConfiguration: ndAwslogs("/ecs/web", "ecs")}), true},
		{"awslogs without a group on Fargate", ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "nginx", LogConfiguration: &rules.LogConfiguration{LogDriver: "awslogs"}}), true},
		{"secret on EC2", ndTaskDef(ndEC2, rules.Container{Name: "app", Image: "nginx", Secrets: []rules.Secret{{Name: "A", ValueFrom: "a"}}}), true},
		{"environment file on EC2", ndTaskDef(ndEC2, rules.Container{Name: "app", Image: "nginx", EnvironmentFiles: []rules.EnvironmentFile{{Type: "s3", Value: "arn:aws:s3:::b/k.env"}}}), true},
		{"plain environment only", ndTaskDef(ndFargate, rules.Container{Name: "app", Image: "nginx", Environment: []rules.KeyValue{{Name: "A", Value: "b"}}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.NeedsExecutionRole(tt.td); got != tt.want {
				t.Errorf("NeedsExecutionRole = %v, want %v", got, tt.want)
			}
		})
	}
}
