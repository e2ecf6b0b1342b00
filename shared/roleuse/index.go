package roleuse

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ecsguard/ecsguard/shared/rules"
)

// Attribute names of the index table: partition key "role" (the role's
// account and name, lower-cased, as IAM names are unique in an account
// regardless of case: "111122223333/web-api-task"), sort key
// "taskDefinition" (the revision ARN), and "use" ("task", "execution" or
// "task,execution").
const (
	KeyRole           = "role"
	KeyTaskDefinition = "taskDefinition"
	attrUse           = "use"
)

// sweptKey is the partition of the marks a sweep leaves, one per account
// it walked (the account is the sort key): an account without one has
// revisions the index may not know, so its lookups go to the scan.
const sweptKey = "#swept"

// attrSweptAt is when a sweep last walked the account (epoch seconds).
const attrSweptAt = "sweptAt"

// Index is the table of roles and the revisions that use them. It is safe
// for concurrent use.
type Index struct {
	DB    *dynamodb.Client
	Table string

	mu       sync.Mutex
	recorded map[string]bool // role and revision entries this process wrote
	swept    map[string]bool // accounts known to be swept
}

// Record adds td's task and execution roles to the index, in one
// BatchWriteItem. An entry this process already wrote is not written
// again: a revision is immutable, so its roles never change.
func (ix *Index) Record(ctx context.Context, td *rules.TaskDefinition) error {
	account := arnAccount(td.ARN)
	uses := map[string][]string{}
	if td.TaskRoleARN != "" {
		n := roleKey(account, td.TaskRoleARN)
		uses[n] = append(uses[n], "task")
	}
	if td.ExecutionRoleARN != "" {
		n := roleKey(account, td.ExecutionRoleARN)
		uses[n] = append(uses[n], "execution")
	}
	var writes []ddbtypes.WriteRequest
	var keys []string
	for role, u := range uses {
		k := role + "\x00" + td.ARN
		if ix.seen(k) {
			continue
		}
		keys = append(keys, k)
		writes = append(writes, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{
			KeyRole:           &ddbtypes.AttributeValueMemberS{Value: role},
			KeyTaskDefinition: &ddbtypes.AttributeValueMemberS{Value: td.ARN},
			attrUse:           &ddbtypes.AttributeValueMemberS{Value: strings.Join(u, ",")},
		}}})
	}
	if len(writes) == 0 {
		return nil
	}
	// BatchWriteItem may leave some items unprocessed under load: send
	// those again, a bounded number of times.
	req := map[string][]ddbtypes.WriteRequest{ix.Table: writes}
	for try := 0; len(req) > 0; try++ {
		if try == 5 {
			return fmt.Errorf("role index: record %s: items still unprocessed after %d tries", td.ARN, try)
		}
		out, err := ix.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
		if err != nil {
			return fmt.Errorf("role index: record %s: %w", td.ARN, err)
		}
		req = out.UnprocessedItems
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.recorded == nil {
		ix.recorded = map[string]bool{}
	}
	for _, k := range keys {
		ix.recorded[k] = true
	}
	return nil
}

func (ix *Index) seen(k string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.recorded[k]
}

// Families returns the task definition families whose revisions use the
// role of account (a name or an ARN) as their task role: what TD-013
// needs.
func (ix *Index) Families(ctx context.Context, account, role string) ([]string, error) {
	var out []string
	err := ix.query(ctx, account, role, func(arn, use string) {
		if !slices.Contains(strings.Split(use, ","), "task") {
			return
		}
		if f := family(arn); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	})
	slices.Sort(out)
	return out, err
}

// family is the family of a task definition revision ARN.
func family(arn string) string {
	_, rest, ok := strings.Cut(arn, ":task-definition/")
	if !ok {
		return ""
	}
	f, _, _ := strings.Cut(rest, ":")
	return f
}

// TaskDefinitions returns the revisions recorded for the role of account
// (a name or an ARN), every page.
func (ix *Index) TaskDefinitions(ctx context.Context, account, role string) ([]string, error) {
	var out []string
	err := ix.query(ctx, account, role, func(arn, _ string) { out = append(out, arn) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// query calls fn with each revision recorded for the role and its use.
func (ix *Index) query(ctx context.Context, account, role string, fn func(arn, use string)) error {
	p := dynamodb.NewQueryPaginator(ix.DB, &dynamodb.QueryInput{
		TableName:                 aws.String(ix.Table),
		KeyConditionExpression:    aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#r": KeyRole, "#t": KeyTaskDefinition, "#u": attrUse},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":r": &ddbtypes.AttributeValueMemberS{Value: roleKey(account, role)}},
		ProjectionExpression:      aws.String("#t, #u"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("role index: query %s: %w", role, err)
		}
		for _, item := range page.Items {
			arn, _ := item[KeyTaskDefinition].(*ddbtypes.AttributeValueMemberS)
			use, _ := item[attrUse].(*ddbtypes.AttributeValueMemberS)
			if arn != nil {
				u := ""
				if use != nil {
					u = use.Value
				}
				fn(arn.Value, u)
			}
		}
	}
	return nil
}

// Forget removes one revision from the entries of the role of account.
func (ix *Index) Forget(ctx context.Context, account, role, taskDefinitionARN string) error {
	_, err := ix.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(ix.Table),
		Key: map[string]ddbtypes.AttributeValue{
			KeyRole:           &ddbtypes.AttributeValueMemberS{Value: roleKey(account, role)},
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

// Swept reports whether a sweep has walked account since the index was
// created: until one has, the index may lack the account's older
// revisions. A true answer is remembered for the life of the process.
func (ix *Index) Swept(ctx context.Context, account string) (bool, error) {
	ix.mu.Lock()
	done := ix.swept[account]
	ix.mu.Unlock()
	if done {
		return true, nil
	}
	out, err := ix.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(ix.Table), Key: sweptItem(account), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#t"), ExpressionAttributeNames: map[string]string{"#t": KeyTaskDefinition},
	})
	if err != nil {
		return false, fmt.Errorf("role index: read the sweep mark of %s: %w", account, err)
	}
	if len(out.Item) == 0 {
		return false, nil
	}
	ix.markSwept(account)
	return true, nil
}

// MarkSwept records that a sweep walked every revision of account, at
// the time given.
func (ix *Index) MarkSwept(ctx context.Context, account string, at time.Time) error {
	item := sweptItem(account)
	item[attrSweptAt] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(at.Unix(), 10)}
	if _, err := ix.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(ix.Table), Item: item}); err != nil {
		return fmt.Errorf("role index: mark %s swept: %w", account, err)
	}
	ix.markSwept(account)
	return nil
}

// SweptAt is when each account was last swept, every mark in one query:
// a sweep walks the accounts swept longest ago first.
func (ix *Index) SweptAt(ctx context.Context) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	p := dynamodb.NewQueryPaginator(ix.DB, &dynamodb.QueryInput{
		TableName:                 aws.String(ix.Table),
		KeyConditionExpression:    aws.String("#r = :r"),
		ExpressionAttributeNames:  map[string]string{"#r": KeyRole},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":r": &ddbtypes.AttributeValueMemberS{Value: sweptKey}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("role index: read the sweep marks: %w", err)
		}
		for _, item := range page.Items {
			account, _ := item[KeyTaskDefinition].(*ddbtypes.AttributeValueMemberS)
			at, _ := item[attrSweptAt].(*ddbtypes.AttributeValueMemberN)
			if account == nil {
				continue
			}
			var sec int64
			if at != nil {
				sec, _ = strconv.ParseInt(at.Value, 10, 64)
			}
			out[account.Value] = time.Unix(sec, 0)
		}
	}
	return out, nil
}

func (ix *Index) markSwept(account string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.swept == nil {
		ix.swept = map[string]bool{}
	}
	ix.swept[account] = true
}

func sweptItem(account string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		KeyRole:           &ddbtypes.AttributeValueMemberS{Value: sweptKey},
		KeyTaskDefinition: &ddbtypes.AttributeValueMemberS{Value: account},
	}
}

// roleKey is the index key of a role given by name, in account, or by
// ARN, whose account it names.
func roleKey(account, role string) string {
	if strings.HasPrefix(role, "arn:") {
		account = cmp.Or(arnAccount(role), account)
	}
	return account + "/" + roleName(role)
}

// roleName is a role's name, lower-cased, given by name or by ARN (its
// path left out).
func roleName(role string) string {
	return strings.ToLower(role[strings.LastIndexByte(role, '/')+1:])
}

// arnAccount is the account field of an ARN, "" for none.
func arnAccount(arn string) string {
	if p := strings.SplitN(arn, ":", 6); len(p) == 6 {
		return p[4]
	}
	return ""
}
