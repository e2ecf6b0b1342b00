package awsexport

import (
	"errors"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Sentinel reasons for decoding errors. Test with errors.Is.
var (
	ErrEmpty                   = errors.New("empty input")
	ErrSyntax                  = errors.New("not valid JSON")
	ErrType                    = errors.New("wrong JSON type")
	ErrNotTaskDefinition       = errors.New("not a describe-task-definition output")
	ErrNotAuthorizationDetails = errors.New("not a get-account-authorization-details output")
	ErrMissingField            = errors.New("missing field")
	ErrBadARN                  = errors.New("not an ECS task definition ARN")
)

// Sentinel reasons carried by the [rules.FactError] values of an [Account].
var (
	ErrRoleNotFound     = errors.New("role ARN not found in IAM export")
	ErrPolicyNotFound   = errors.New("policy ARN not found in IAM export")
	ErrNoDefaultVersion = errors.New("policy has no default version in IAM export")
	ErrNoDocument       = errors.New("no policy document")
	ErrOtherAccount     = rules.ErrOtherAccount
)
