package ledger

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Approval items share the table with the event records: one item per
// resource whose tags ecsguard saw set, under the key ApprovalPrefix and
// the resource's ARN, with one attribute per tag key ("tag:" and the key)
// holding the value set, the call's actor, its event id and when it was
// recorded. They carry no expiresAt: an approval holds as long as the tag
// keeps the value it recorded.
const (
	ApprovalPrefix = "exemption#"
	tagAttrPrefix  = "tag:"
)

// TagSetting is a tag value as a call set it, and the call.
type TagSetting struct {
	Value   string
	Actor   string // the principal behind the call (trail.Change.Actor)
	EventID string
	At      time.Time // when it was recorded
}

// Approval is, by tag key, the last setting of each tag of one resource
// that ecsguard recorded.
type Approval map[string]TagSetting

// RecordApproval records that the call eventID of actor set these tags of
// resource (an ARN). It updates only the keys given, so the record of a tag
// another call set stays. The zero Ledger records nothing.
func (l *Ledger) RecordApproval(ctx context.Context, resource string, tags map[string]string, actor, eventID string) error {
	if !l.enabled() || len(tags) == 0 {
		return nil
	}
	at := strconv.FormatInt(l.now().Unix(), 10)
	var sets []string
	names := map[string]string{}
	values := map[string]ddbtypes.AttributeValue{}
	for i, k := range slices.Sorted(maps.Keys(tags)) {
		n, v := fmt.Sprintf("#t%d", i), fmt.Sprintf(":t%d", i)
		sets = append(sets, n+" = "+v)
		names[n] = tagAttrPrefix + k
		values[v] = &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
			"value":   &ddbtypes.AttributeValueMemberS{Value: tags[k]},
			"actor":   &ddbtypes.AttributeValueMemberS{Value: actor},
			"eventId": &ddbtypes.AttributeValueMemberS{Value: eventID},
			"at":      &ddbtypes.AttributeValueMemberN{Value: at},
		}}
	}
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       approvalKey(resource),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("event ledger: record the tags %s set on %s: %w", actor, resource, err)
	}
	return nil
}

// batchGetMax is BatchGetItem's limit of keys per call.
const batchGetMax = 100

// Approvals reads the approval items of resources, by resource, with
// strongly consistent reads (an approval recorded by this invocation is
// seen). A resource without one is absent from the map. The zero Ledger
// has none.
func (l *Ledger) Approvals(ctx context.Context, resources []string) (map[string]Approval, error) {
	out := map[string]Approval{}
	if !l.enabled() {
		return out, nil
	}
	resources = slices.Compact(slices.Sorted(slices.Values(resources)))
	for chunk := range slices.Chunk(resources, batchGetMax) {
		keys := make([]map[string]ddbtypes.AttributeValue, 0, len(chunk))
		for _, r := range chunk {
			keys = append(keys, approvalKey(r))
		}
		req := map[string]ddbtypes.KeysAndAttributes{l.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		// DynamoDB may leave keys unprocessed under load: ask for those
		// again, a few times, as its documentation advises.
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt == 5 {
				return nil, fmt.Errorf("event ledger: read approvals: %d keys still unprocessed", len(req[l.Table].Keys))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
				}
			}
			got, err := l.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("event ledger: read approvals: %w", err)
			}
			for _, item := range got.Responses[l.Table] {
				if r, a := readApproval(item); r != "" {
					out[r] = a
				}
			}
			req = got.UnprocessedKeys
		}
	}
	return out, nil
}

func approvalKey(resource string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{KeyName: &ddbtypes.AttributeValueMemberS{Value: ApprovalPrefix + resource}}
}

func readApproval(item map[string]ddbtypes.AttributeValue) (string, Approval) {
	pk, _ := item[KeyName].(*ddbtypes.AttributeValueMemberS)
	if pk == nil || !strings.HasPrefix(pk.Value, ApprovalPrefix) {
		return "", nil
	}
	a := Approval{}
	for name, v := range item {
		key, ok := strings.CutPrefix(name, tagAttrPrefix)
		m, isMap := v.(*ddbtypes.AttributeValueMemberM)
		if !ok || !isMap {
			continue
		}
		s := TagSetting{Value: str(m.Value["value"]), Actor: str(m.Value["actor"]), EventID: str(m.Value["eventId"])}
		if n, ok := m.Value["at"].(*ddbtypes.AttributeValueMemberN); ok {
			if sec, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				s.At = time.Unix(sec, 0)
			}
		}
		a[key] = s
	}
	return strings.TrimPrefix(pk.Value, ApprovalPrefix), a
}

func str(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
