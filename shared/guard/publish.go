package guard

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/ecsguard/ecsguard/shared/alert"
	"github.com/ecsguard/ecsguard/shared/rules"
)

// publish sends the report to the topic as one SNS message with a body per
// protocol (report JSON by default, text for email, an AWS Chatbot custom
// notification for https) and attributes subscribers can filter on.
func (h *Handler) publish(ctx context.Context, r rules.Report) (string, error) {
	msg, err := alert.Render(r)
	if err != nil {
		return "", err
	}
	return h.send(ctx, msg)
}

// send publishes a rendered alert and returns its message id.
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
