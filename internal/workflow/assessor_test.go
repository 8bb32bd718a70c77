package workflow

import (
	"context"
	"errors"
	"testing"

	"github.com/tangkal/tangkal/internal/registry"
	"github.com/tangkal/tangkal/internal/risk"
	"github.com/tangkal/tangkal/internal/store"
	"github.com/tangkal/tangkal/internal/testenv"
)

// An empty registry in the table (a deployment nobody loaded) fails
// VerifyAd loudly instead of judging every recruiter against the bundled,
// fictional file; once loaded, it is what VerifyAd checks against.
func TestAssessorsRefuseAnEmptyRegistry(t *testing.T) {
	ctx := context.Background()
	db := testenv.DynamoDB(t)
	name := testenv.UniqueName(t, "registry")
	if err := testenv.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	rules, err := risk.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	table := store.Table{DB: db, Name: name}
	a := &Assessors{Table: table, Rules: rules}
	if _, err := a.Assessor(ctx); !errors.Is(err, ErrRegistryEmpty) {
		t.Fatalf("empty registry: err %v, want ErrRegistryEmpty", err)
	}
	if _, err := registry.Load(ctx, table, registry.Default()); err != nil {
		t.Fatal(err)
	}
	if as, err := a.Assessor(ctx); err != nil || as == nil {
		t.Fatalf("after registry load: %v", err)
	}
}
