package store

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Auditors' listings, each one Query of an index (never a Scan, never a
// FilterExpression, so every page is full):
//
//	status             ByStatus          GSI1PK = STATUS#<s>                (case META)
//	platform           ByPlatform        GSI2PK = PLATFORM#<p>              (case META)
//	status + platform  ByStatusPlatform  GSI4PK = STATUS#<s>#PLATFORM#<p>   (case META)
//	urgency, category, all cases (time range alone), deciding agency,
//	deciding approver  ByFacet           FPK = <FACET>#<value>              (CASE#<id>/FACET#… items)
//
// Every listing is sorted by GSI1SK = <time>#<case id>: the case's
// creation time, except the agency's and approver's, where it is the
// decision's time. ByFacet projects keys only: a listing reads the page's
// case items with one BatchGetItem, so the facets are small items written
// once (urgency again if a case is verified again), never rewritten when
// a case moves on.
const (
	IndexByStatusPlatform = "ByStatusPlatform"
	IndexByFacet          = "ByFacet"
)

// Facets of the ByFacet index.
const (
	FacetAll      = "ALL"
	FacetUrgency  = "URGENCY"
	FacetCategory = "CATEGORY"
	FacetAgency   = "AGENCY"
	FacetApprover = "APPROVER"

	// PrefixFacet starts the sort key of a case's facet items.
	PrefixFacet = "FACET#"
)

// StatusPlatformKey is the ByStatusPlatform partition of a status on a
// platform.
func StatusPlatformKey(status, platform string) string {
	return PrefixStatus + status + "#" + PrefixPlatform + platform
}

// FacetKey is the ByFacet partition of a facet's value ("" for FacetAll).
func FacetKey(facet, value string) string {
	if facet == FacetAll {
		return FacetAll
	}
	return facet + "#" + value
}

// FacetSK is the sort key of a case's facet item. One item per facet, and
// per deciding agency and approver.
func FacetSK(facet, value string) string {
	switch facet {
	case FacetAgency, FacetApprover:
		return PrefixFacet + facet + "#" + value
	}
	return PrefixFacet + facet
}

// FacetPut is the write of a case's facet item, sorted at t (see the
// index's comment for which time).
func FacetPut(table, caseID, facet, value string, t time.Time) types.TransactWriteItem {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"PK": s(CasePK(caseID)), "SK": s(FacetSK(facet, value)), "case_id": s(caseID),
		"FPK": s(FacetKey(facet, value)), "GSI1SK": s(TimeKey(t, caseID)),
	}}}
}

// IndexAttributes are the index keys a change of a case's attributes
// moves: a new status moves the case in ByStatus and ByStatusPlatform.
// Every writer of a case's status goes through this (history's append).
func IndexAttributes(c *Case, set map[string]any) map[string]string {
	out := map[string]string{}
	if s, ok := set["status"].(string); ok {
		out["GSI1PK"] = StatusKey(s)
		if c.Platform != "" {
			out["GSI4PK"] = StatusPlatformKey(s, c.Platform)
		}
	}
	return out
}

// DecisionIndexItems index a case under the agency and the approver who
// decided on it, at the decision's time: the writes to add to the
// transaction that records the decision. One item per agency and per
// approver of a case, so an agency deciding again (another tier, or
// several agencies each deciding: multi-agency approval) lists the case
// once under each. An empty agency or approver is not indexed.
func DecisionIndexItems(table, caseID, agency, approver string, at time.Time) []types.TransactWriteItem {
	var out []types.TransactWriteItem
	if agency != "" {
		out = append(out, FacetPut(table, caseID, FacetAgency, agency, at))
	}
	if approver != "" {
		out = append(out, FacetPut(table, caseID, FacetApprover, strings.ToLower(approver), at))
	}
	return out
}
