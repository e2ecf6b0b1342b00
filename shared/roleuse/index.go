package roleuse

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Attribute names of the index table: partition key "role" (the role name,
// lower-cased, as IAM names are unique regardless of case), sort key
// "taskDefinition" (the revision ARN), and "use" ("task", "execution" or
// "task,execution").
const (
	KeyRole           = "role"
	KeyTaskDefinition = "taskDefinition"
	attrUse           = "use"
)

// Index is the table of roles and the revisions that use them.
type Index struct {
	DB    *dynamodb.Client
	Table string
}

// Record adds td's task and execution roles to the index.
func (ix *Index) Record(ctx context.Context, td *rules.TaskDefinition) error {
	uses := map[string][]string{}
	if td.TaskRoleARN != "" {
		n := roleKey(td.TaskRoleARN)
		uses[n] = append(uses[n], "task")
	}
	if td.ExecutionRoleARN != "" {
		n := roleKey(td.ExecutionRoleARN)
		uses[n] = append(uses[n], "execution")
	}
	for role, u := range uses {
		_, err := ix.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(ix.Table),
			Item: map[string]ddbtypes.AttributeValue{
				KeyRole:           &ddbtypes.AttributeValueMemberS{Value: role},
				KeyTaskDefinition: &ddbtypes.AttributeValueMemberS{Value: td.ARN},
				attrUse:           &ddbtypes.AttributeValueMemberS{Value: strings.Join(u, ",")},
			},
		})
		if err != nil {
			return fmt.Errorf("role index: record %s for %s: %w", td.ARN, role, err)
		}
	}
	return nil
}

// TaskDefinitions returns the revisions recorded for the role (a name or
// an ARN), every page.
func (ix *Index) TaskDefinitions(ctx context.Context, role string) ([]string, error) {
	var out []string
	p := dynamodb.NewQueryPaginator(ix.DB, &dynamodb.QueryInput{
		TableName:                 aws.String(ix.Table),
		KeyConditionExpression:    aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#r": KeyRole},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":r": &ddbtypes.AttributeValueMemberS{Value: roleKey(role)}},
		ProjectionExpression:      aws.String(KeyTaskDefinition),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("role index: query %s: %w", role, err)
		}
		for _, item := range page.Items {
			if v, ok := item[KeyTaskDefinition].(*ddbtypes.AttributeValueMemberS); ok {
				out = append(out, v.Value)
			}
		}
	}
	return out, nil
}

// Forget removes one revision from the role's entries.
func (ix *Index) Forget(ctx context.Context, role, taskDefinitionARN string) error {
	_, err := ix.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(ix.Table),
		Key: map[string]ddbtypes.AttributeValue{
			KeyRole:           &ddbtypes.AttributeValueMemberS{Value: roleKey(role)},
			KeyTaskDefinition: &ddbtypes.AttributeValueMemberS{Value: taskDefinitionARN},
		},
	})
	if err != nil {
		return fmt.Errorf("role index: forget %s for %s: %w", taskDefinitionARN, role, err)
	}
	return nil
}

// CreateTable creates an index table (on demand capacity) and waits until
// it is active. The deployed table is the CDK stack's; this serves tests and
// the demo.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(KeyRole), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(KeyTaskDefinition), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(KeyRole), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(KeyTaskDefinition), KeyType: ddbtypes.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("role index: create table %s: %w", name, err)
	}
	return dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30e9)
}

// roleKey is the index key of a role given by name or ARN.
func roleKey(role string) string {
	if strings.HasPrefix(role, "arn:") {
		role = role[strings.LastIndexByte(role, '/')+1:]
	}
	return strings.ToLower(role)
}
