package registry

import (
	"github.com/tangkal/tangkal/internal/store"

	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tangkal/tangkal/internal/testenv"
)

func createTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	name := testenv.UniqueName(t, "registry")
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestLoadRefreshesRegistryInDynamoDB(t *testing.T) {
	db := testenv.DynamoDB(t)
	table := createTable(t, db)
	ctx := context.Background()

	n, err := Load(ctx, store.Table{DB: db, Name: table}, Default())
	if err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Fatalf("loaded %d entries, want 25", n)
	}
	// Loading again is a no-op.
	if _, err := Load(ctx, store.Table{DB: db, Name: table}, Default()); err != nil {
		t.Fatal(err)
	}
	got, err := FromDynamoDB(ctx, store.Table{DB: db, Name: table})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 25 {
		t.Fatalf("read back %d entries, want 25", got.Len())
	}
	e, ok := got.ByLicence("SIP3MI 131/KP2MI/2024")
	if !ok || e.Company != "PT Puspa Rantau Sentosa" || e.Status != StatusSuspended || e.Phone != "+62215550121" || e.ValidUntil.Format("2006-01-02") != "2029-12-24" {
		t.Fatalf("suspended entry read back as %+v (found %v)", e, ok)
	}

	// A refresh with a smaller CSV removes licences no longer listed and
	// updates changed statuses.
	csv := "company_name,licence_number,status,city,phone,valid_until\n" +
		"PT Puspa Rantau Sentosa,SIP3MI 131/KP2MI/2024,active,Cianjur,+62 21 555 0121,2029-12-24\n" +
		"PT Kenanga Tiga Benua,SIP3MI 063/KP2MI/2024,revoked,Malang,+62 21 555 0103,2029-12-03\n"
	small, err := ParseCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, store.Table{DB: db, Name: table}, small); err != nil {
		t.Fatal(err)
	}
	got, err = FromDynamoDB(ctx, store.Table{DB: db, Name: table})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 2 {
		t.Fatalf("after refresh %d entries, want 2", got.Len())
	}
	if e, _ := got.ByLicence("SIP3MI 063/KP2MI/2024"); e.Status != StatusRevoked {
		t.Fatalf("status after refresh %q, want revoked", e.Status)
	}
	if ms := got.Match("Lowongan PT Kenanga Tiga Benua"); len(ms) != 1 || ms[0].Entry.Status != StatusRevoked {
		t.Fatalf("match after refresh: %+v", ms)
	}
}
