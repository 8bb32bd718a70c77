package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/platform"
	"github.com/tangkal/tangkal/internal/store"
)

// noticeItem remembers a notice sent to a platform: NOTICE#<idempotency
// key> / META.
type noticeItem struct {
	PK        string           `dynamodbav:"PK"`
	SK        string           `dynamodbav:"SK"`
	Receipt   platform.Receipt `dynamodbav:"receipt"`
	Deadline  string           `dynamodbav:"deadline"`
	ExpiresAt int64            `dynamodbav:"expires_at"`
}

func (s *Steps) sentNotice(ctx context.Context, key string) (*noticeItem, error) {
	out, err := s.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table.Name), Key: store.Key(store.NoticePK(key), store.SKMeta), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read notice %s: %w", key, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var n noticeItem
	if err := attributevalue.UnmarshalMap(out.Item, &n); err != nil {
		return nil, fmt.Errorf("decode notice %s: %w", key, err)
	}
	return &n, nil
}

func (s *Steps) rememberNotice(ctx context.Context, key string, r platform.Receipt, deadline time.Time) error {
	av, err := attributevalue.MarshalMap(noticeItem{
		PK: store.NoticePK(key), SK: store.SKMeta, Receipt: r, Deadline: store.FormatTime(deadline),
		ExpiresAt: s.now().Add(400 * 24 * time.Hour).Unix(),
	})
	if err != nil {
		return fmt.Errorf("encode notice %s: %w", key, err)
	}
	if _, err := s.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table.Name), Item: av}); err != nil {
		return fmt.Errorf("store notice %s: %w", key, err)
	}
	return nil
}
