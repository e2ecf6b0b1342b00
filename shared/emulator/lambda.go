package emulator

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// BuildBootstrap builds the Lambda function in the Go package dir (such as
// functions/onregister) as outDir/bootstrap, in the runtime's no-RPC mode,
// for this machine (linux), so the Runtime Interface Emulator can run it.
// It keeps the toolchain's other settings, so the build reuses what go test
// has already compiled; the deployed arm64 binary is built by make build.
func BuildBootstrap(ctx context.Context, dir, outDir string) (string, error) {
	out := filepath.Join(outDir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", out, ".")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", dir, err, b)
	}
	return out, nil
}

// FunctionEnv is the environment a Lambda function sees on this server for
// account: the credentials of a session of the role roleName (which need
// not exist in the emulator), as Lambda passes its execution role's, the
// region, and AWS_ENDPOINT_URL pointing the SDK at endpoint. The function's
// requests then reach the account by their access key, with no header and
// no code of its own for the emulator.
func FunctionEnv(ctx context.Context, endpoint, account, roleName string) ([]string, error) {
	out, err := sts.NewFromConfig(Config(endpoint, account)).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/%s", account, roleName)),
		RoleSessionName: aws.String(roleName),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: credentials for %s: %w", roleName, err)
	}
	c := out.Credentials
	return []string{
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + aws.ToString(c.AccessKeyId),
		"AWS_SECRET_ACCESS_KEY=" + aws.ToString(c.SecretAccessKey),
		"AWS_SESSION_TOKEN=" + aws.ToString(c.SessionToken),
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_LAMBDA_FUNCTION_NAME=" + roleName,
	}, nil
}
