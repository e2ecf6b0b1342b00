package iampolicy

import (
	"strings"
	"sync"
)

// Context is what is known of the request context of the requests a
// principal makes: condition keys known to be absent, keys present with
// known values, keys present with a value nobody can know in advance (the
// time, the source IP). Every other key is unknown: a condition on it
// cannot be decided and makes a statement Conditional.
//
// The zero Context knows nothing. [RoleSession] is the context of a role
// session that an AWS service started for the role, such as the credentials
// ECS gives a task.
type Context struct {
	keys map[string]keyInfo // lower-case key: this principal's
	base map[string]keyInfo // shared by every context of its kind
	// tags are the principal's tags (lower-case keys) when tagsKnown:
	// aws:PrincipalTag/<key> is present with the tag's value, or absent.
	tags      map[string]string
	tagsKnown bool
	account   string // the principal's account, for service-wide ARNs
	partition string // the principal's partition, "aws" when not known
}

type keyState uint8

const (
	keyUnknown        keyState = iota // may be absent or present with any value
	keyAbsent                         // not in the request context
	keyPresent                        // present with the known values
	keyPresentUnknown                 // present, with a value not known here
)

type keyInfo struct {
	state  keyState
	values []string
}

// Keys of a role session's request context, from the Availability of each
// key in "AWS global condition context keys",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
var (
	// Never present in the requests of a role session.
	sessionAbsent = []string{
		"aws:username",                     // only IAM users have it
		"aws:MultiFactorAuthAge",           // only when MFA was used
		"aws:FederatedProvider",            // only sessions from a third-party identity provider
		"aws:PrincipalServiceName",         // only when an AWS service principal calls
		"aws:PrincipalServiceNamesList",    // same
		"aws:Ec2InstanceSourceVpc",         // only with Amazon EC2 role credentials
		"aws:Ec2InstanceSourcePrivateIPv4", // same
		"aws:referer",                      // only for requests linked from a web page
		"aws:SourceAccount",                // only when a service calls on behalf of a resource owner
		"aws:SourceArn",                    // same
		"aws:SourceOrgID",                  // same
		"aws:SourceOrgPaths",               // same
	}
	// Always present for a role session, with a value that depends on the
	// request (or on the session's id), not known here.
	sessionPresent = []string{
		"aws:userid", "aws:TokenIssueTime", "aws:CurrentTime", "aws:EpochTime",
		"aws:SecureTransport", "aws:RequestedRegion", "aws:UserAgent", "aws:ViaAWSService",
	}
)

// RoleSession returns the request context of a session of the role roleARN
// that an AWS service assumed for it, without MFA and without session tags:
// what a task's containers (task role) or the ECS agent (execution role)
// send. aws:PrincipalType is AssumedRole, aws:PrincipalArn the role's ARN
// (not the session's), aws:PrincipalAccount its account,
// aws:MultiFactorAuthPresent false (the key is present for temporary
// credentials, and ECS uses no MFA), aws:PrincipalIsAWSService false. The
// keys no role session has (aws:username, ...) are absent. tags, when not
// nil, are the role's tags: aws:PrincipalTag/<key> is then decided. See
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
// and the principal key values of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func RoleSession(roleARN string, tags map[string]string) Context {
	c := Context{base: sessionKeys(), keys: map[string]keyInfo{}}
	known := func(k, v string) { c.keys[strings.ToLower(k)] = keyInfo{state: keyPresent, values: []string{v}} }
	if roleARN != "" {
		known("aws:PrincipalArn", roleARN)
		if p := strings.SplitN(roleARN, ":", 6); len(p) == 6 && p[4] != "" {
			c.account, c.partition = p[4], p[1]
			known("aws:PrincipalAccount", p[4])
		}
	}
	if tags != nil {
		c.tagsKnown = true
		c.tags = make(map[string]string, len(tags))
		for k, v := range tags {
			c.tags[strings.ToLower(k)] = v
		}
	}
	return c
}

// sessionKeys are the keys every role session has alike, built once and
// shared read-only by every RoleSession context.
var sessionKeys = sync.OnceValue(func() map[string]keyInfo {
	m := map[string]keyInfo{}
	for _, k := range sessionAbsent {
		m[strings.ToLower(k)] = keyInfo{state: keyAbsent}
	}
	for _, k := range sessionPresent {
		m[strings.ToLower(k)] = keyInfo{state: keyPresentUnknown}
	}
	for k, v := range map[string]string{
		"aws:PrincipalType":          "AssumedRole",
		"aws:MultiFactorAuthPresent": "false",
		"aws:PrincipalIsAWSService":  "false",
	} {
		m[strings.ToLower(k)] = keyInfo{state: keyPresent, values: []string{v}}
	}
	return m
})

// lookup returns what the context knows of key (lower case).
func (c *Context) lookup(key string) keyInfo {
	if k, ok := c.keys[key]; ok {
		return k
	}
	if k, ok := c.base[key]; ok {
		return k
	}
	if tag, ok := strings.CutPrefix(key, "aws:principaltag/"); ok && c.tagsKnown {
		if v, ok := c.tags[tag]; ok {
			return keyInfo{state: keyPresent, values: []string{v}}
		}
		return keyInfo{state: keyAbsent}
	}
	return keyInfo{state: keyUnknown}
}

// KnowsPresence reports whether the context knows if key (any case) is in
// the request context: absent, or present with a known or unknown value.
// A service's own key is known absent from requests to other services;
// that depends on the request, not on the context.
func (c Context) KnowsPresence(key string) bool {
	return c.lookup(strings.ToLower(key)).state != keyUnknown
}

// crossService are the condition keys that carry a service's prefix but
// reach requests to other services ("cross-service condition keys" in
// reference_policies_condition-keys.html). Any other key with a service
// prefix is absent from requests to other services.
var crossService = map[string]bool{
	"ec2:sourceinstancearn":         true,
	"ec2:sourceinstanceprivateipv4": true,
	"ec2:roledelivery":              true,
	"lambda:sourcefunctionarn":      true,
	"glue:roleassumedby":            true,
	"glue:credentialissuingservice": true,
	"ssm:sourceinstancearn":         true,
	"identitystore:userid":          true,
}

// keyService is the service prefix of a condition key, "" for the global
// aws: keys and the cross-service keys.
func keyService(key string) string {
	svc, _, ok := strings.Cut(key, ":")
	if !ok || svc == "aws" || crossService[key] {
		return ""
	}
	return svc
}
