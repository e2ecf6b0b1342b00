package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Envelope values of the events this package reads.
const (
	DetailTypeAPICall = "AWS API Call via CloudTrail"
	SourceECS         = "aws.ecs"
	SourceIAM         = "aws.iam"
	// The sources of ecsguard's own resources, watched for tampering.
	SourceSNS    = "aws.sns"
	SourceKMS    = "aws.kms"
	SourceEvents = "aws.events"

	// The ECS event names handled: a registration, and a TagResource of a
	// task definition that sets an exemption tag.
	EventRegisterTaskDefinition = "RegisterTaskDefinition"
	EventTagResource            = "TagResource"
)

// eventSources maps each handled source to the eventSource of its records.
var eventSources = map[string]string{
	SourceECS:    "ecs.amazonaws.com",
	SourceIAM:    "iam.amazonaws.com",
	SourceSNS:    "sns.amazonaws.com",
	SourceKMS:    "kms.amazonaws.com",
	SourceEvents: "events.amazonaws.com",
}

// tamperEvents are the calls that can weaken ecsguard's own topic, key and
// rules, by source: an alert that is not delivered, a topic that cannot be
// decrypted, a rule that no longer fires.
var tamperEvents = map[string][]string{
	SourceSNS:    {"AddPermission", "DeleteTopic", "PutDataProtectionPolicy", "RemovePermission", "SetSubscriptionAttributes", "SetTopicAttributes", "Subscribe", "Unsubscribe"},
	SourceKMS:    {"CreateGrant", "DisableKey", "DisableKeyRotation", "PutKeyPolicy", "RevokeGrant", "ScheduleKeyDeletion"},
	SourceEvents: {"DeleteRule", "DisableRule", "PutRule", "PutTargets", "RemoveTargets"},
}

// TamperEventNames returns the event names of source that [Parse] reads as
// changes to a resource of ecsguard's, sorted.
func TamperEventNames(source string) []string { return slices.Clone(tamperEvents[source]) }

// iamEvent says which request parameters an IAM event must carry.
type iamEvent struct {
	role, policyARN, policyName, boundary bool
	tags                                  bool // the request's tags are read
}

// iamEvents are the IAM calls that can change what a role may do or who may
// assume it (SPEC §1), with the parameters that say what they touched.
var iamEvents = map[string]iamEvent{
	"AttachRolePolicy":              {role: true, policyARN: true},
	"DetachRolePolicy":              {role: true, policyARN: true},
	"PutRolePolicy":                 {role: true, policyName: true},
	"DeleteRolePolicy":              {role: true, policyName: true},
	"UpdateAssumeRolePolicy":        {role: true},
	"CreatePolicyVersion":           {policyARN: true},
	"SetDefaultPolicyVersion":       {policyARN: true},
	"PutRolePermissionsBoundary":    {role: true, boundary: true},
	"DeleteRolePermissionsBoundary": {role: true},
	"CreateRole":                    {role: true, tags: true},
	"TagRole":                       {role: true, tags: true},
	"UntagRole":                     {role: true},
}

// IAMEventNames returns the IAM event names [Parse] handles, sorted: the list
// an EventBridge rule for aws.iam should match.
func IAMEventNames() []string {
	names := make([]string, 0, len(iamEvents))
	for n := range iamEvents {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParseJSON decodes an EventBridge event as delivered (the envelope with the
// CloudTrail record in detail) and parses it with [Parse]. Text that is not
// a JSON object, such as a truncated event or null, is [ErrMalformed] with
// the position and the JSON error, and with the envelope's id when it can
// still be read.
func ParseJSON(b []byte) (Change, error) {
	var e events.CloudWatchEvent
	err := json.Unmarshal(b, &e)
	if err == nil && isNull(b) {
		// Unmarshal accepts null as "no change"; it is not an event.
		err = errors.New("the value is JSON null, not an object")
	}
	if err != nil {
		return Change{}, &Error{EventID: envelopeID(b), Err: fmt.Errorf("%w: envelope: %w", ErrMalformed, jsonError(b, err))}
	}
	return Parse(e)
}

// envelopeID reads the id of an envelope that does not decode, so the drop
// message still names the event. json.Unmarshal gives up on the whole text
// at the first syntax error, but a truncated event usually keeps its id,
// which EventBridge writes before the detail: read the top-level members in
// order and stop at the first one that does not decode.
func envelopeID(b []byte) string {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	var id string
	for d.More() {
		t, err := d.Token()
		if err != nil {
			break
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			break
		}
		// encoding/json matches keys case-insensitively, last one winning.
		var s string
		if strings.EqualFold(key, "id") && json.Unmarshal(v, &s) == nil {
			id = s
		}
	}
	return id
}

// Parse reads what the API call behind e changed. The checks run in this
// order, so each event gets the most useful reason: the envelope's
// detail-type and source ([ErrForeign]), the record's eventSource and
// eventName ([ErrMalformed] when missing or inconsistent with the source,
// [ErrForeign] when not handled), its errorCode ([ErrFailedCall]), then the
// fields the change needs ([ErrMalformed]).
func Parse(e events.CloudWatchEvent) (Change, error) {
	c, err := parse(e)
	if err != nil {
		id := e.ID
		if id == "" {
			id = c.EventID
		}
		return Change{}, &Error{EventID: id, Err: err}
	}
	return c, nil
}

// header is the part of a record read before deciding whether the event is
// handled, so a foreign event is never rejected for a field it need not have.
type header struct {
	EventSource string `json:"eventSource"`
	EventName   string `json:"eventName"`
	EventID     string `json:"eventID"`
}

// record is the rest of a CloudTrail record, for handled events only.
type record struct {
	AWSRegion          string          `json:"awsRegion"`
	RecipientAccountID string          `json:"recipientAccountId"`
	ErrorCode          *string         `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
	UserIdentity       *userIdentity   `json:"userIdentity"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	Resources          []struct {
		ARN string `json:"ARN"`
	} `json:"resources"`
}

type userIdentity struct {
	ARN            string `json:"arn"`
	SessionContext *struct {
		SessionIssuer *struct {
			ARN string `json:"arn"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

func (u *userIdentity) actor() string {
	if u == nil {
		return ""
	}
	if s := u.SessionContext; s != nil && s.SessionIssuer != nil && s.SessionIssuer.ARN != "" {
		return s.SessionIssuer.ARN
	}
	return u.ARN
}

// registered is the part of a RegisterTaskDefinition response read.
type registered struct {
	TaskDefinition *struct {
		TaskDefinitionARN *string `json:"taskDefinitionArn"`
	} `json:"taskDefinition"`
}

// iamRequest holds the request parameters of the IAM events read.
type iamRequest struct {
	RoleName            *string `json:"roleName"`
	PolicyARN           *string `json:"policyArn"`
	PolicyName          *string `json:"policyName"`
	PermissionsBoundary *string `json:"permissionsBoundary"`
}

// tagsRequest holds the tags of a request. CloudTrail records a request's
// parameters as the API's JSON request: ECS RegisterTaskDefinition and
// TagResource take "tags": [{"key", "value"}], TagResource with the tagged
// "resourceArn"
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html);
// IAM TagRole and CreateRole the same "tags": [{"key", "value"}], the IAM
// parameters lower-camel-cased as in every IAM record
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagRole.html).
type tagsRequest struct {
	ResourceARN *string `json:"resourceArn"`
	Tags        []struct {
		Key   *string `json:"key"`
		Value *string `json:"value"`
	} `json:"tags"`
}

func parse(e events.CloudWatchEvent) (Change, error) {
	if e.DetailType != DetailTypeAPICall {
		return Change{}, fmt.Errorf("%w: detail-type %q", ErrForeign, e.DetailType)
	}
	wantSource, ok := eventSources[e.Source]
	if !ok {
		return Change{}, fmt.Errorf("%w: source %q", ErrForeign, e.Source)
	}
	if isNull(e.Detail) {
		return Change{}, fmt.Errorf("%w: no detail", ErrMalformed)
	}
	var h header
	if err := json.Unmarshal(e.Detail, &h); err != nil {
		// After a wrong type, Unmarshal still fills the other fields: keep
		// the eventID for an envelope without an id.
		return Change{EventID: h.EventID}, fmt.Errorf("%w: detail: %w", ErrMalformed, jsonError(e.Detail, err))
	}
	if h == (header{}) {
		return Change{}, fmt.Errorf("%w: detail holds no CloudTrail record (no eventSource, eventName or eventID)", ErrMalformed)
	}
	c := Change{
		EventID:   cmpOr(e.ID, h.EventID),
		EventName: h.EventName,
		Source:    e.Source,
	}
	switch {
	case h.EventSource == "":
		return c, fmt.Errorf("%w: detail.eventSource missing", ErrMalformed)
	case h.EventSource != wantSource:
		return c, fmt.Errorf("%w: source %s with detail.eventSource %q", ErrMalformed, e.Source, h.EventSource)
	case h.EventName == "":
		return c, fmt.Errorf("%w: detail.eventName missing", ErrMalformed)
	}
	var spec iamEvent
	switch e.Source {
	case SourceECS:
		if h.EventName != EventRegisterTaskDefinition && h.EventName != EventTagResource {
			return c, fmt.Errorf("%w: %s %s", ErrForeign, e.Source, h.EventName)
		}
	case SourceIAM:
		if spec, ok = iamEvents[h.EventName]; !ok {
			return c, fmt.Errorf("%w: %s %s", ErrForeign, e.Source, h.EventName)
		}
	default:
		if !slices.Contains(tamperEvents[e.Source], h.EventName) {
			return c, fmt.Errorf("%w: %s %s", ErrForeign, e.Source, h.EventName)
		}
	}

	var r record
	if err := json.Unmarshal(e.Detail, &r); err != nil {
		return c, fmt.Errorf("%w: detail: %w", ErrMalformed, jsonError(e.Detail, err))
	}
	if r.ErrorCode != nil {
		msg := *r.ErrorCode
		if r.ErrorMessage != "" {
			msg += ": " + r.ErrorMessage
		}
		return c, fmt.Errorf("%w: %s %s: %s", ErrFailedCall, e.Source, h.EventName, msg)
	}
	c.Account = cmpOr(e.AccountID, r.RecipientAccountID)
	c.Region = cmpOr(r.AWSRegion, e.Region)
	c.Actor = r.UserIdentity.actor()

	switch {
	case e.Source == SourceECS && h.EventName == EventTagResource:
		return tagResourceChange(c, r.RequestParameters)
	case e.Source == SourceECS:
		arn, err := taskDefinitionARN(r.ResponseElements)
		if err != nil {
			return c, err
		}
		c.TaskDefinitionARN = arn
		// The tags the registration set: unreadable ones are left out
		// rather than dropping the registration, and an exemption whose
		// setter is unknown does not hold.
		_, c.Tags, _ = requestTags(r.RequestParameters)
		return c, nil
	case e.Source == SourceIAM:
		return iamChange(c, spec, r.RequestParameters)
	}
	return resourceChange(c, e.Source, r)
}

// resourceRequest holds the request parameters that name the topic, key or
// rule of a tampering event: SNS topicArn (resourceArn for
// PutDataProtectionPolicy, subscriptionArn for Unsubscribe and
// SetSubscriptionAttributes), KMS keyId, EventBridge name (rule for
// PutTargets and RemoveTargets).
type resourceRequest struct {
	TopicARN        string `json:"topicArn"`
	ResourceARN     string `json:"resourceArn"`
	SubscriptionARN string `json:"subscriptionArn"`
	KeyID           string `json:"keyId"`
	Name            string `json:"name"`
	Rule            string `json:"rule"`
	EventBusName    string `json:"eventBusName"`
}

// resourceChange reads which topic, key or rule a call on SNS, KMS or
// EventBridge changed, as an ARN in Change.Resource.
func resourceChange(c Change, source string, r record) (Change, error) {
	var req resourceRequest
	if !isNull(r.RequestParameters) {
		if err := json.Unmarshal(r.RequestParameters, &req); err != nil {
			return c, fmt.Errorf("%w: detail.requestParameters: %w", ErrMalformed, jsonError(r.RequestParameters, err))
		}
	}
	switch source {
	case SourceSNS:
		c.Resource = cmpOr(req.TopicARN, req.ResourceARN)
		if c.Resource == "" && req.SubscriptionARN != "" {
			// arn:aws:sns:REGION:ACCOUNT:TOPIC:SUBSCRIPTION-ID
			c.Resource = req.SubscriptionARN[:max(strings.LastIndexByte(req.SubscriptionARN, ':'), 0)]
		}
	case SourceKMS:
		// CloudTrail names the key in resources[].ARN; keyId may be an id,
		// an alias or an ARN.
		for _, res := range r.Resources {
			if strings.Contains(res.ARN, ":key/") {
				c.Resource = res.ARN
			}
		}
		if c.Resource == "" {
			c.Resource = req.KeyID
		}
	case SourceEvents:
		if name := cmpOr(req.Name, req.Rule); name != "" {
			c.Resource = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", c.Region, c.Account, name)
			if req.EventBusName != "" && req.EventBusName != "default" && !strings.HasPrefix(req.EventBusName, "arn:") {
				c.Resource = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s/%s", c.Region, c.Account, req.EventBusName, name)
			}
		}
	}
	if c.Resource == "" {
		return c, fmt.Errorf("%w: %s %s names no topic, key or rule", ErrMalformed, source, c.EventName)
	}
	return c, nil
}

func taskDefinitionARN(resp json.RawMessage) (string, error) {
	const field = "detail.responseElements.taskDefinition.taskDefinitionArn"
	var out registered
	if !isNull(resp) {
		if err := json.Unmarshal(resp, &out); err != nil {
			return "", fmt.Errorf("%w: detail.responseElements: %w", ErrMalformed, jsonError(resp, err))
		}
	}
	if out.TaskDefinition == nil || out.TaskDefinition.TaskDefinitionARN == nil {
		return "", fmt.Errorf("%w: %s missing", ErrMalformed, field)
	}
	arn := *out.TaskDefinition.TaskDefinitionARN
	if !isTaskDefinitionARN(arn) {
		return "", fmt.Errorf("%w: %s %q is not a task definition revision ARN", ErrMalformed, field, arn)
	}
	return arn, nil
}

// tagResourceChange reads an ECS TagResource: the revision tagged, when
// the call sets an exemption tag on a task definition revision. Tagging
// anything else is foreign: it changes nothing ecsguard judges.
func tagResourceChange(c Change, params json.RawMessage) (Change, error) {
	req, tags, err := requestTags(params)
	if err != nil {
		return c, err
	}
	switch {
	case req.ResourceARN == nil || *req.ResourceARN == "":
		return c, fmt.Errorf("%w: detail.requestParameters.resourceArn missing", ErrMalformed)
	case !isTaskDefinitionARN(*req.ResourceARN):
		return c, fmt.Errorf("%w: %s %s of %s, not a task definition revision", ErrForeign, SourceECS, c.EventName, *req.ResourceARN)
	}
	c.TaskDefinitionARN, c.Tags = *req.ResourceARN, tags
	if !c.SetsExemption() {
		return c, fmt.Errorf("%w: %s %s of %s sets neither %s nor %s", ErrForeign, SourceECS, c.EventName, c.TaskDefinitionARN, TagExempt, TagExemptReason)
	}
	return c, nil
}

// requestTags decodes the request's tags, by key; nil when it has none.
func requestTags(params json.RawMessage) (tagsRequest, map[string]string, error) {
	var req tagsRequest
	if !isNull(params) {
		if err := json.Unmarshal(params, &req); err != nil {
			return req, nil, fmt.Errorf("%w: detail.requestParameters: %w", ErrMalformed, jsonError(params, err))
		}
	}
	var tags map[string]string
	for i, t := range req.Tags {
		if t.Key == nil {
			return req, nil, fmt.Errorf("%w: detail.requestParameters.tags[%d].key missing", ErrMalformed, i)
		}
		if tags == nil {
			tags = map[string]string{}
		}
		tags[*t.Key] = ""
		if t.Value != nil {
			tags[*t.Key] = *t.Value
		}
	}
	return req, tags, nil
}

func iamChange(c Change, spec iamEvent, params json.RawMessage) (Change, error) {
	var req iamRequest
	if !isNull(params) {
		if err := json.Unmarshal(params, &req); err != nil {
			return c, fmt.Errorf("%w: detail.requestParameters: %w", ErrMalformed, jsonError(params, err))
		}
	}
	fields := []struct {
		name     string
		value    *string
		required bool
		valid    func(string) bool
		into     *string
	}{
		{"roleName", req.RoleName, spec.role, roleName.MatchString, &c.RoleName},
		{"policyArn", req.PolicyARN, spec.policyARN, isPolicyARN, &c.PolicyARN},
		{"policyName", req.PolicyName, spec.policyName, policyName.MatchString, &c.PolicyName},
		{"permissionsBoundary", req.PermissionsBoundary, spec.boundary, isPolicyARN, &c.PolicyARN},
	}
	for _, f := range fields {
		if !f.required {
			continue
		}
		if f.value == nil || *f.value == "" {
			return c, fmt.Errorf("%w: detail.requestParameters.%s missing", ErrMalformed, f.name)
		}
		if !f.valid(*f.value) {
			return c, fmt.Errorf("%w: detail.requestParameters.%s %q is not of its form", ErrMalformed, f.name, *f.value)
		}
		*f.into = *f.value
	}
	if spec.tags {
		// A role change is judged whatever its tags; unreadable tags only
		// leave the exemption's setter unknown.
		_, c.Tags, _ = requestTags(params)
	}
	return c, nil
}

// IAM name patterns (IAM API reference: roleName, policyName).
var (
	roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// isPolicyARN accepts arn:PARTITION:iam::ACCOUNT|aws:policy/[path/]NAME.
func isPolicyARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == "iam" && parts[3] == "" &&
		parts[4] != "" && strings.HasPrefix(parts[5], "policy/") && !strings.HasSuffix(parts[5], "/")
}

// isTaskDefinitionARN accepts
// arn:PARTITION:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.
func isTaskDefinitionARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "ecs" || parts[3] == "" || parts[4] == "" {
		return false
	}
	family, revision, ok := strings.Cut(strings.TrimPrefix(parts[5], "task-definition/"), ":")
	if !ok || !strings.HasPrefix(parts[5], "task-definition/") || family == "" || revision == "" {
		return false
	}
	for _, r := range revision {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// jsonError adds the line and column of a syntax error, and says which field
// had the wrong type in JSON's terms, so the drop message points at the
// problem.
func jsonError(b []byte, err error) error {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		line, col := position(b, syntax.Offset)
		return fmt.Errorf("line %d col %d: %w", line, col, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		where := "the value"
		if typ.Field != "" {
			where = "field " + typ.Field
		}
		return fmt.Errorf("%s is a JSON %s, not %s", where, typ.Value, jsonKind(typ.Type))
	}
	return err
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Name() == "RawMessage" {
			return "a JSON value"
		}
		return "an array"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}

// position turns encoding/json's offset (the number of bytes read up to and
// including the offending byte) into the 1-based line and column of that
// byte, as package awsexport does. At the end of truncated text it points at
// the last non-blank byte, where an editor shows the cut.
func position(b []byte, offset int64) (line, col int) {
	off := int(min(max(offset, 0), int64(len(b))))
	if off == len(b) {
		off = len(bytes.TrimRight(b, " \t\r\n"))
	}
	if off == 0 {
		return 1, 1
	}
	before := b[:off-1]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}
