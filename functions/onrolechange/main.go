// Command onrolechange is the Lambda function that EventBridge invokes on
// IAM role and policy changes: it re-evaluates the task definitions and
// secondary ECS roles the change touches and publishes one alert for the
// change. A scheduled event asks it to sweep the role index instead.
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
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", "onrolechange")
	cfg, err := guard.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	aws, err := guard.LoadAWSConfig(context.Background())
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(invoker{guard.New(cfg, aws, log)})
}

// invoker hands the payload to the guard as bytes, so that an event that is
// not JSON is dropped with its id rather than failing in the runtime.
type invoker struct{ h *guard.Handler }

func (i invoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var out any
	var err error
	if guard.IsScheduled(payload) {
		out, err = i.h.Sweep(ctx)
	} else {
		out, err = i.h.OnRoleChange(ctx, payload)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}
