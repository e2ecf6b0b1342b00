package awsfacts

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Calls counts the AWS API calls made through an aws.Config, in total and
// per operation ("ECS.DescribeTaskDefinition"). A retried call counts once
// per attempt's operation, as it costs one request quota each time. It is
// safe for concurrent use.
type Calls struct {
	total atomic.Int64
	mu    sync.Mutex
	byOp  map[string]int64
}

// Count adds the counting middleware to cfg; every client built from cfg
// afterwards is counted.
func (c *Calls) Count(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("ecsguardCountCalls",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.add(middleware.GetServiceID(ctx) + "." + middleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

func (c *Calls) add(op string) {
	c.total.Add(1)
	c.mu.Lock()
	if c.byOp == nil {
		c.byOp = map[string]int64{}
	}
	c.byOp[op]++
	c.mu.Unlock()
}

// Total returns the number of calls so far.
func (c *Calls) Total() int64 { return c.total.Load() }

// ByOperation returns a copy of the per-operation counts.
func (c *Calls) ByOperation() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.byOp))
	for k, v := range c.byOp {
		out[k] = v
	}
	return out
}
