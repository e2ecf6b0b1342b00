package awsfacts

import (
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// throttleCodes are the error codes the SDK's own retryer treats as
// throttling: they outlasted the retries, but a later attempt may pass.
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottledException": true, "TooManyRequestsException": true,
	"ProvisionedThroughputExceededException": true, "TransactionInProgressException": true,
	"RequestLimitExceeded": true, "BandwidthLimitExceeded": true, "LimitExceededException": true,
	"RequestThrottled": true, "SlowDown": true, "PriorRequestNotComplete": true,
	"EC2ThrottledException": true, "ServiceUnavailable": true, "InternalFailure": true,
	"InternalError": true, "ServerException": true,
}

// Permanent reports whether err is an AWS error that retrying will not cure:
// an API error of the caller's making (AccessDenied, NoSuchEntity, a
// ClientException for a task definition that does not exist). Throttling,
// server errors (HTTP 5xx), network errors and cancelled contexts are not
// permanent: the invocation should fail and be retried.
func Permanent(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	if throttleCodes[api.ErrorCode()] {
		return false
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return false
	}
	return api.ErrorFault() != smithy.FaultServer
}
