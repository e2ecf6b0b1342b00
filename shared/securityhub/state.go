package securityhub

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ecsguard/ecsguard/shared/asff"
	"github.com/ecsguard/ecsguard/shared/ledger"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// State items share the ledger table with the event records: one per
// subject, under StatePrefix and the subject's ARN, whose attribute
// "findings" maps each active finding's key (asff.Key) to its severity and
// when it was first raised. They carry no expiresAt: a finding stays
// active in Security Hub until an evaluation resolves it.
const (
	StatePrefix   = "securityhub#"
	attrFindings  = "findings"
	batchGetLimit = 100 // BatchGetItem's most keys per call
)

// States reads the state of each subject, with strongly consistent reads;
// a subject never imported has an empty State.
func (im *Importer) States(ctx context.Context, subjects []string) (map[string]asff.State, error) {
	out := make(map[string]asff.State, len(subjects))
	for _, s := range subjects {
		out[s] = asff.State{}
	}
	keys := slices.Compact(slices.Sorted(maps.Keys(out)))
	for chunk := range slices.Chunk(keys, batchGetLimit) {
		req := map[string]ddbtypes.KeysAndAttributes{im.Table: {ConsistentRead: aws.Bool(true)}}
		ka := req[im.Table]
		for _, s := range chunk {
			ka.Keys = append(ka.Keys, stateKey(s))
		}
		req[im.Table] = ka
		for len(req) > 0 {
			got, err := im.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("security hub state: read %d subjects: %w", len(chunk), err)
			}
			for _, item := range got.Responses[im.Table] {
				subject, state := readState(item)
				out[subject] = state
			}
			req = got.UnprocessedKeys
		}
	}
	return out, nil
}

// Save records what the import left active for subject.
func (im *Importer) Save(ctx context.Context, subject string, s asff.State) error {
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(im.Table),
		Key:                      stateKey(subject),
		UpdateExpression:         aws.String("REMOVE #f"),
		ExpressionAttributeNames: map[string]string{"#f": attrFindings},
	}
	if len(s) > 0 {
		m := make(map[string]ddbtypes.AttributeValue, len(s))
		for k, seen := range s {
			m[k] = &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
				"severity":  &ddbtypes.AttributeValueMemberS{Value: seen.Severity.String()},
				"createdAt": &ddbtypes.AttributeValueMemberS{Value: seen.CreatedAt.UTC().Format(time.RFC3339Nano)},
			}}
		}
		in.UpdateExpression = aws.String("SET #f = :f")
		in.ExpressionAttributeValues = map[string]ddbtypes.AttributeValue{":f": &ddbtypes.AttributeValueMemberM{Value: m}}
	}
	if _, err := im.DB.UpdateItem(ctx, in); err != nil {
		return fmt.Errorf("security hub state: record %s: %w", subject, err)
	}
	return nil
}

func stateKey(subject string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{ledger.KeyName: &ddbtypes.AttributeValueMemberS{Value: StatePrefix + subject}}
}

// readState decodes an item; an entry it cannot read is left out, and the
// finding is then imported as new: never lost, at worst created again.
func readState(item map[string]ddbtypes.AttributeValue) (string, asff.State) {
	key, _ := item[ledger.KeyName].(*ddbtypes.AttributeValueMemberS)
	s := asff.State{}
	if key == nil {
		return "", s
	}
	subject := key.Value[len(StatePrefix):]
	m, _ := item[attrFindings].(*ddbtypes.AttributeValueMemberM)
	if m == nil {
		return subject, s
	}
	for k, v := range m.Value {
		e, ok := v.(*ddbtypes.AttributeValueMemberM)
		if !ok {
			continue
		}
		sevAttr, _ := e.Value["severity"].(*ddbtypes.AttributeValueMemberS)
		atAttr, _ := e.Value["createdAt"].(*ddbtypes.AttributeValueMemberS)
		if sevAttr == nil || atAttr == nil {
			continue
		}
		sev, err := rules.ParseSeverity(sevAttr.Value)
		at, terr := time.Parse(time.RFC3339Nano, atAttr.Value)
		if err != nil || terr != nil {
			continue
		}
		s[k] = asff.Seen{Severity: sev, CreatedAt: at}
	}
	return subject, s
}
