// Package approval holds the agencies' decision on a takedown. One
// approval item per workflow run (APPROVAL#<id>) carries the policy the
// agencies file chose for the case (package agency), who may act now
// (identity → agency), each agency's decision, a hold, and the task token
// of the workflow task waiting now (it never leaves the server: not in
// links, pages, messages, logs, history or JSON).
//
// Acting: Store.Act records one member's approve, reject (reason
// required), hold (reason required; holders only) or release for the
// member's agency, in one transaction with its history event and the
// case's view of the approval (GET /cases/{id} shows it as "approval":
// decisions, hold, what the policy still needs). When the policy is met
// or can no longer be met the result says Deliver, and AfterAct.Done
// completes the waiting task (Completer) and updates the agency's Slack
// message in place. A member outside the policy gets ErrNotApprover
// (403) and nothing is written.
//
// Ways in, all ending in Store.Act:
//   - the e-mailed signed link: Handler (GET /approvals/{id} shows the
//     case and a confirm form and never decides; POST decides once for the
//     link's member). Links are /approvals/<id>?a=<member>&exp=<unix>&sig=
//     base64url(HMAC-SHA256(secret, id|member|exp)).
//   - a token: Inbox (GET /approvals?status=pending lists what waits for
//     the caller; POST /approvals/{id}/decision decides for the caller's
//     agency), behind the JWT authorizer.
//   - Slack: SlackHandler verifies the signature and timestamp, takes each
//     signed request once, opens the reason modal for Reject and Hold,
//     acknowledges, and hands the act to Async (in AWS the Approvals
//     function invokes itself asynchronously with AsyncRouteKey; locally
//     the same function runs in a goroutine), which runs Process.
//
// The workflow side (internal/workflow) creates the approval, moves it to
// the next tier, and binds each waiting task's token (Bind): a waiting task
// that finds an outcome recorded but never delivered (a crash in between)
// delivers it at once.
package approval
