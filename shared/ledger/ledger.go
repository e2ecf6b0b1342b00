package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of a record. The table's partition key is "pk" and its
// TTL attribute "expiresAt" (epoch seconds).
const (
	KeyName      = "pk"
	TTLAttribute = "expiresAt"
	attrState    = "state"
	attrLease    = "lease"
	attrDereg    = "deregistered"
	attrSent     = "published"
)

// Retention is how long a record is kept.
const Retention = 15 * 24 * time.Hour

// ErrBusy is returned by [Ledger.Begin] when another delivery of the same
// event holds the record: the caller fails the invocation so that the
// event comes back once that delivery is done.
var ErrBusy = errors.New("another delivery of this event is being handled")

// Ledger is the table of event records. The zero Ledger (no table) keeps
// nothing: every delivery acts, at least once.
type Ledger struct {
	DB    *dynamodb.Client
	Table string
	// Lease is how long a claim holds off another delivery of the same
	// event; 0 means until the invocation's deadline (the function's
	// timeout), so that one that crashed is taken over by the next retry.
	// A failed invocation releases it at once.
	Lease time.Duration
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// Record is what was done for one event so far.
type Record struct {
	key  string
	l    *Ledger
	Done bool // every effect happened: a duplicate does nothing
	// Deregistered are the task definition revisions this event set out
	// to deregister, by this delivery or an earlier one: each is recorded
	// before ECS is asked, so the revision's live status says whether the
	// call went through.
	Deregistered []string
	// Published are the keys of the alert messages already published.
	Published []string
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Begin claims the record of event key (the account and the event id),
// creating it, or taking over one whose lease ran out. A record already
// done comes back with Done set.
func (l *Ledger) Begin(ctx context.Context, key string) (*Record, error) {
	r := &Record{key: key, l: l}
	if l == nil || l.DB == nil || l.Table == "" {
		return r, nil
	}
	now := l.now()
	lease := l.Lease
	if lease <= 0 {
		// The invocation's own deadline (the function's timeout): a
		// delivery that crashed is taken over by the next retry.
		lease = 2 * time.Minute
		if d, ok := ctx.Deadline(); ok {
			lease = d.Sub(now) + 5*time.Second
		}
	}
	out, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(l.Table),
		Key:                 r.keyAttr(),
		UpdateExpression:    aws.String("SET #s = :running, #l = :lease, #t = if_not_exists(#t, :ttl)"),
		ConditionExpression: aws.String("attribute_not_exists(#k) OR (#s = :running AND #l < :now)"),
		ExpressionAttributeNames: map[string]string{
			"#k": KeyName, "#s": attrState, "#l": attrLease, "#t": TTLAttribute,
		},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":running": &ddbtypes.AttributeValueMemberS{Value: "running"},
			":lease":   number(now.Add(lease).UnixMilli()),
			":now":     number(now.UnixMilli()),
			":ttl":     number(now.Add(Retention).Unix()),
		},
		ReturnValues: ddbtypes.ReturnValueAllNew,
		// A record held by another delivery comes back with the refusal,
		// so a duplicate costs one call.
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *ddbtypes.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return r.held(failed.Item)
	case err != nil:
		return nil, fmt.Errorf("event ledger: claim %s: %w", key, err)
	}
	r.read(out.Attributes)
	return r, nil
}

// held is the record as another delivery left it: done, or busy.
func (r *Record) held(item map[string]ddbtypes.AttributeValue) (*Record, error) {
	r.read(item)
	if !r.Done {
		return nil, fmt.Errorf("event %s: %w", r.key, ErrBusy)
	}
	return r, nil
}

func (r *Record) read(item map[string]ddbtypes.AttributeValue) {
	if s, ok := item[attrState].(*ddbtypes.AttributeValueMemberS); ok && s.Value == "done" {
		r.Done = true
	}
	if ss, ok := item[attrDereg].(*ddbtypes.AttributeValueMemberSS); ok {
		r.Deregistered = slices.Sorted(slices.Values(ss.Value))
	}
	if ss, ok := item[attrSent].(*ddbtypes.AttributeValueMemberSS); ok {
		r.Published = slices.Sorted(slices.Values(ss.Value))
	}
}

// HasDeregistered reports whether this event set out to deregister the
// revision.
func (r *Record) HasDeregistered(arn string) bool { return slices.Contains(r.Deregistered, arn) }

// HasPublished reports whether the message with this key was published.
func (r *Record) HasPublished(key string) bool { return slices.Contains(r.Published, key) }

// AddDeregistered records a revision the event is about to deregister.
func (r *Record) AddDeregistered(ctx context.Context, arn string) error {
	r.Deregistered = append(r.Deregistered, arn)
	return r.add(ctx, attrDereg, arn)
}

// AddPublished records an alert message published.
func (r *Record) AddPublished(ctx context.Context, key string) error {
	r.Published = append(r.Published, key)
	return r.add(ctx, attrSent, key)
}

func (r *Record) add(ctx context.Context, attr, value string) error {
	if !r.l.enabled() {
		return nil
	}
	_, err := r.l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(r.l.Table),
		Key:                       r.keyAttr(),
		UpdateExpression:          aws.String("ADD #a :v"),
		ExpressionAttributeNames:  map[string]string{"#a": attr},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberSS{Value: []string{value}}},
	})
	if err != nil {
		return fmt.Errorf("event ledger: record %s of %s: %w", attr, r.key, err)
	}
	return nil
}

// Finish marks every effect of the event done. A published message key,
// when not "", is recorded by the same write: the last message of an
// alert costs no write of its own.
func (r *Record) Finish(ctx context.Context, published string) error {
	r.Done = true
	if published != "" {
		r.Published = append(r.Published, published)
	}
	return r.set(ctx, "done", false, published)
}

// Release gives the record up after a failure, so that the retry need not
// wait for the lease. Failing to is harmless: the lease runs out.
func (r *Record) Release(ctx context.Context) error {
	return r.set(ctx, "running", true, "")
}

func (r *Record) set(ctx context.Context, state string, release bool, published string) error {
	if !r.l.enabled() {
		return nil
	}
	expr := "SET #s = :s"
	names := map[string]string{"#s": attrState}
	values := map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberS{Value: state}}
	if release {
		expr += ", #l = :zero"
		names["#l"] = attrLease
		values[":zero"] = number(0)
	}
	if published != "" {
		expr += " ADD #p :p"
		names["#p"] = attrSent
		values[":p"] = &ddbtypes.AttributeValueMemberSS{Value: []string{published}}
	}
	_, err := r.l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(r.l.Table), Key: r.keyAttr(), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("event ledger: mark %s %s: %w", r.key, state, err)
	}
	return nil
}

func (l *Ledger) enabled() bool { return l != nil && l.DB != nil && l.Table != "" }

func (r *Record) keyAttr() map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{KeyName: &ddbtypes.AttributeValueMemberS{Value: r.key}}
}

func number(n int64) *ddbtypes.AttributeValueMemberN {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// CreateTable creates a ledger table (on-demand capacity) and waits until
// it is active. The deployed table is the CDK stack's; this serves tests
// and the demo.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(KeyName), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(KeyName), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		return fmt.Errorf("event ledger: create table %s: %w", name, err)
	}
	return dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second)
}
