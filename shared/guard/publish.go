package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/ledger"
)

// announce renders the assessment and publishes each message that an
// earlier delivery of the event did not: a message is known by a hash of
// its subject and body, which the same assessment always renders alike.
// Each is recorded once published, but the last: its key is returned for
// the write that finishes the event's record to carry.
func (h *Handler) announce(ctx context.Context, r *run, rec *ledger.Record) (last string, err error) {
	msgs, err := alert.Render(r.a)
	if err != nil {
		return "", err
	}
	for i, m := range msgs {
		key := messageKey(m)
		r.alerted = true
		if rec.HasPublished(key) {
			continue
		}
		id, err := h.send(ctx, m)
		if err != nil {
			return "", err
		}
		r.messageIDs = append(r.messageIDs, id)
		if i == len(msgs)-1 {
			return key, nil
		}
		if err := rec.AddPublished(ctx, key); err != nil {
			return "", err
		}
	}
	return "", nil
}

func messageKey(m alert.Message) string {
	sum := sha256.Sum256([]byte(m.Subject + "\x00" + m.Body))
	return hex.EncodeToString(sum[:12])
}

// send publishes a rendered alert and returns its message id: one body per
// protocol (MessageStructure=json) and attributes subscribers filter on.
func (h *Handler) send(ctx context.Context, msg alert.Message) (string, error) {
	attrs := make(map[string]snstypes.MessageAttributeValue, len(msg.Attributes))
	for k, v := range msg.Attributes {
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String(alert.AttributeType(k)), StringValue: aws.String(v)}
	}
	out, err := h.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn:          aws.String(h.Config.TopicARN),
		Subject:           aws.String(msg.Subject),
		Message:           aws.String(msg.Body),
		MessageStructure:  aws.String("json"),
		MessageAttributes: attrs,
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}
