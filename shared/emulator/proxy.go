package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Fault is an error a [FaultProxy] answers with, written in the protocol of
// the service called, as AWS writes it.
type Fault int

const (
	// Throttling: HTTP 400 ThrottlingException (JSON protocols) or
	// Throttling (query protocols). The SDK retries it.
	Throttling Fault = iota + 1
	// AccessDenied: AccessDeniedException, AccessDenied, or for SNS
	// AuthorizationError, with HTTP 400 or 403 as the service sends it. The
	// SDK does not retry it.
	AccessDenied
	// InternalError: HTTP 500 with the service's server-fault code. The SDK
	// retries it.
	InternalError
)

// FaultProxy is a reverse proxy in front of the emulator that fails chosen
// operations, so the SDK's own retry and error handling meet the errors AWS
// sends. It recognises the operation by the X-Amz-Target header (JSON
// protocols: ECS, SQS, EventBridge) or the Action form field (query
// protocols: IAM, SNS, STS).
type FaultProxy struct {
	srv   *http.Server
	url   string
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	faults map[string]*fault
	calls  map[string]int
	ops    []string // every operation, in the order it reached the proxy
	record map[string]bool
	bodies map[string][][]byte
}

type fault struct {
	kind  Fault
	skip  int    // calls to let through first
	left  int    // <0: every call
	match string // when set, only calls whose request body holds it
}

// StartFaultProxy starts a proxy to target on a free port of 127.0.0.1.
func StartFaultProxy(target string) (*FaultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{
		url:    "http://" + ln.Addr().String(),
		proxy:  httputil.NewSingleHostReverseProxy(u),
		faults: map[string]*fault{},
		calls:  map[string]int{},
	}
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln)
	return p, nil
}

// URL is the proxy's endpoint, for aws.Config.BaseEndpoint.
func (p *FaultProxy) URL() string { return p.url }

// Close stops the proxy.
func (p *FaultProxy) Close() error { return p.srv.Close() }

// Fail makes the next n calls of op (an API operation name such as
// "GetRole"; n < 0 for every call until [FaultProxy.Reset]) fail with kind.
func (p *FaultProxy) Fail(op string, n int, kind Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = &fault{kind: kind, left: n}
}

// FailAfter lets the next skip calls of op through, then fails the n
// after them (n < 0: every one until [FaultProxy.Reset]) with kind: the
// second of several deregistrations, say.
func (p *FaultProxy) FailAfter(op string, skip, n int, kind Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = &fault{kind: kind, skip: skip, left: n}
}

// FailMatching fails the next n calls of op whose request body holds
// match (n < 0: every one until [FaultProxy.Reset]) with kind: the
// AssumeRole of one account's role, say, by its ARN.
func (p *FaultProxy) FailMatching(op, match string, n int, kind Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = &fault{kind: kind, left: n, match: match}
}

// Ops returns every operation that reached the proxy so far, in order,
// failed ones and retries included.
func (p *FaultProxy) Ops() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ops)
}

// Record keeps the request body of every later call of op, for
// [FaultProxy.Recorded]: what a function really sent, such as the
// messages it published.
func (p *FaultProxy) Record(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.record == nil {
		p.record, p.bodies = map[string]bool{}, map[string][][]byte{}
	}
	p.record[op] = true
}

// Recorded is the request bodies of op since [FaultProxy.Record], in the
// order they arrived.
func (p *FaultProxy) Recorded(op string) [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.bodies[op])
}

// Reset removes every fault; the counts of calls stay.
func (p *FaultProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.faults)
}

// Calls is how many requests for op reached the proxy, failed ones (and so
// each SDK retry) included.
func (p *FaultProxy) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, query := operation(r)
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	p.calls[op]++
	p.ops = append(p.ops, op)
	if p.record[op] {
		p.bodies[op] = append(p.bodies[op], body)
	}
	f := p.faults[op]
	var kind Fault
	switch {
	case f == nil:
	case f.match != "" && !bytes.Contains(body, []byte(f.match)):
	case f.skip > 0:
		f.skip--
	case f.left != 0:
		kind = f.kind
		if f.left > 0 {
			f.left--
		}
	}
	p.mu.Unlock()
	if kind == 0 {
		p.proxy.ServeHTTP(w, r)
		return
	}
	service := signingService(r)
	code, status := errorCode(kind, service, query)
	msg := fmt.Sprintf("injected by the emulator's fault proxy: %s %s", service, op)
	if query {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		kindAttr := "Sender"
		if status >= 500 {
			kindAttr = "Receiver"
		}
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`, kindAttr, code, msg)
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/x-amz-json-1.1"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

// errorCode is the code and HTTP status each service uses for a fault.
func errorCode(kind Fault, service string, query bool) (string, int) {
	switch kind {
	case Throttling:
		if query {
			return "Throttling", http.StatusBadRequest
		}
		return "ThrottlingException", http.StatusBadRequest
	case AccessDenied:
		switch {
		case service == "sns":
			return "AuthorizationError", http.StatusForbidden
		case query:
			return "AccessDenied", http.StatusForbidden
		}
		return "AccessDeniedException", http.StatusBadRequest
	default:
		switch service {
		case "iam":
			return "ServiceFailure", http.StatusInternalServerError
		case "sns":
			return "InternalError", http.StatusInternalServerError
		case "ecs":
			return "ServerException", http.StatusInternalServerError
		}
		return "InternalFailure", http.StatusInternalServerError
	}
}

// operation reads the API operation of a request, and whether it uses a
// query protocol.
func operation(r *http.Request) (op string, query bool) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:], false
	}
	if op, ok := restOperations[r.Method+" "+r.URL.Path]; ok {
		return op, false
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	v, _ := url.ParseQuery(string(body))
	return v.Get("Action"), true
}

// restOperations are the operations of REST protocols (Security Hub's
// restJson1), known by method and path: they name no operation in a
// header or the body.
var restOperations = map[string]string{
	"POST /findings/import": "BatchImportFindings",
	"POST /findings":        "GetFindings",
}

// signingService reads the service from the SigV4 credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request).
func signingService(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
