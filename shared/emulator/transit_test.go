package emulator_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecsguard/ecsguard/shared/emulator"
)

// A request the server read but did not answer is not sent again: the
// server may have applied it, and a RegisterTaskDefinition sent twice
// registers two revisions. A server that is not listening is retried, as
// before (nothing was sent).
func TestConfigDoesNotResendInTransit(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var requests atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Read the whole request, as the server does before applying
			// it, then drop the connection instead of answering.
			if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil && strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".RegisterTaskDefinition") {
				requests.Add(1)
			}
			c.Close()
		}
	}()

	register := &ecs.RegisterTaskDefinitionInput{
		Family:               aws.String("web-api"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String("busybox"), Memory: aws.Int32(128)}},
	}
	_, err = ecs.NewFromConfig(emulator.Config("http://"+l.Addr().String(), emulator.NewAccount())).RegisterTaskDefinition(context.Background(), register)
	if err == nil || strings.Contains(err.Error(), "exceeded maximum number of attempts") {
		t.Errorf("err = %v, want the transport error of the one attempt", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the server read %d RegisterTaskDefinition requests, want 1", n)
	}

	addr := l.Addr().String()
	l.Close()
	_, err = ecs.NewFromConfig(emulator.Config("http://"+addr, emulator.NewAccount())).RegisterTaskDefinition(context.Background(), register)
	if err == nil || !strings.Contains(err.Error(), "exceeded maximum number of attempts, 3") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("not listening: err = %v, want 3 attempts, refused", err)
	}
}
