// Package store holds tangkal's single DynamoDB table: its key layout, the
// case record (CASE#<id>/META) and the table's creation from template.yaml.
//
// Items:
//
//	CASE#<id>      META          the case's current state (Case)
//	CASE#<id>      EVENT#<seq>   append-only, hash-chained history (package history)
//	CASE#<id>      REPORT#<id>   each report of the ad
//	URL#<sha256>   CLAIM         dedupe claim of a canonical URL
//	IDEM#<key>     IDEM          stored answer of an idempotent request (TTL)
//	ENTITY#<k>#<v> CASE#<id>     recruiter entity → case (package entity)
//	APPROVAL#<id>  META          approval request and its task token (package approval)
//	REGISTRY       LICENCE#<n>   licensed recruiter registry (package registry)
//
// GSI ByStatus (GSI1PK=STATUS#<status>, GSI1SK=<created_at>#<id>) and
// ByPlatform (GSI2PK=PLATFORM#<platform>, GSI2SK=<created_at>#<id>) serve
// auditors' listings without a Scan.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tangkal/tangkal/internal/samtemplate"
)

// TableLogicalID is the table's logical id in template.yaml.
const TableLogicalID = "CasesTable"

// Index names, as in template.yaml.
const (
	IndexByStatus   = "ByStatus"
	IndexByPlatform = "ByPlatform"
)

// Key prefixes and sort keys.
const (
	SKMeta = "META"
)

// CasePK is the partition key of a case's items.
func CasePK(id string) string { return "CASE#" + id }

// EventSK is the sort key of the seq-th event of a case.
func EventSK(seq int) string { return fmt.Sprintf("EVENT#%010d", seq) }

// ReportSK is the sort key of a report.
func ReportSK(id string) string { return "REPORT#" + id }

// StatusKey is the ByStatus partition of a status.
func StatusKey(status string) string { return "STATUS#" + status }

// PlatformKey is the ByPlatform partition of a platform.
func PlatformKey(platform string) string { return "PLATFORM#" + platform }

// TimeKey is the sort key used in both indexes: time first, id to break ties.
func TimeKey(t time.Time, id string) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z") + "#" + id
}

// FormatTime is how every timestamp is stored: RFC 3339, UTC, microseconds.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// CreateTable creates a table called name with the schema of CasesTable in
// the nearest template.yaml (used by the local stack and by tests).
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	t, err := samtemplate.LoadNearest()
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return t.CreateTable(ctx, db, TableLogicalID, name)
}
