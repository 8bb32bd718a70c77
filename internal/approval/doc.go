// Package approval holds the agency approvers' decision on a takedown: the
// stored request (with the Step Functions task token, which never leaves the
// server), signed review links, the review page and decide endpoint, and
// the email and Slack messages that carry the links.
//
// Creating a request (RequestApproval task, .waitForTaskToken):
//
//	st := &approval.Store{Table: table, Log: &history.Log{Table: table}}
//	a, err := st.Create(ctx, approval.Approval{CaseID: id, TaskToken: token, Tier: "standard",
//		Approvers: []string{"dewi@agency.example", approval.SlackApprover("U024BE7LH")},
//		ExpiresAt: now.Add(48 * time.Hour), Summary: summary})
//	signer, err := approval.NewSigner([]byte(os.Getenv(approval.SecretEnv)), "https://api.example")
//	link := signer.Link(a.ID, "dewi@agency.example", a.ExpiresAt)
//	subject, text, html := approval.Compose(summary, link)   // one email per approver
//	blocks := approval.SlackBlocks(summary, a.ID, "")         // Approve/Reject buttons carry a.ID
//
// Links look like /approvals/<id>?a=<approver>&exp=<unix>&sig=<sig> with
// sig = base64url(HMAC-SHA256(secret, id + "|" + approver + "|" + exp)); a
// changed id, approver or expiry gives ErrForged, a genuine link past its
// expiry ErrLinkExpired.
//
// Deciding: Handler.Handle takes the API Gateway v2 request for GET or POST
// /approvals/{id}. GET verifies the link and shows the case and a confirm
// form, and never decides (mail scanners follow links). POST (form or JSON:
// decision, a, exp, sig, reason) verifies the link and calls Store.Decide,
// which decides once with a conditional write: a second decision gets 409,
// a forged link 403, an expired one 410, and nothing changes. After the one
// successful decision Handler.Decided gets the approval with its TaskToken
// (SendTaskSuccess/SendTaskFailure). With an authenticated principal in the
// request, it must hold the approver or admin role (else 403).
//
// Slack buttons: after slack.Verifier.VerifyRequest and
// slack.ParseInteraction, ParseAction(action.ActionID, action.Value) gives
// the approval id and decision; call Store.Decide(ctx, id, decision,
// SlackApprover(user.ID), "").
//
// When Store.Log is set, Decide writes the decision and the case's
// EventDecided history event in one transaction. Store.Expire marks a
// pending approval expired when the workflow's approval timeout fires.
package approval
