// Command onregister is the Lambda function that EventBridge invokes on every
// ECS RegisterTaskDefinition, and on every ECS TagResource that sets an
// exemption tag on a task definition: it evaluates the revision and its
// roles, publishes the findings to SNS and, in enforce mode, deregisters it.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ecsguard/ecsguard/shared/guard"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "onregister")
	h, err := handler(context.Background(), log)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(invoker{h})
}

// handler builds everything once, outside the invocations: configuration,
// clients (AWS_ENDPOINT_URL, when set, points them at an emulator), the
// facts loader and its cache.
func handler(ctx context.Context, log *slog.Logger) (*guard.Handler, error) {
	cfg, err := guard.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	aws, err := guard.LoadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return guard.New(cfg, aws, log), nil
}

// invoker hands the payload to the guard as bytes. A handler taking
// json.RawMessage would let the runtime decode first, and an event that is
// not JSON would fail there, retried, instead of being dropped with its id.
type invoker struct{ h *guard.Handler }

func (i invoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := i.h.OnRegister(ctx, payload)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
