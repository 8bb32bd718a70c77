// Package platform holds the platforms' configuration and the adapters that
// send them takedown notices.
//
// Configuration: Default() reads the bundled data/platforms.json; Load(path)
// reads another file (same format). Per platform: display name, hosts,
// channel ("webhook" or "email"), webhook URL and the name of the env var
// holding its signing secret, status API URL, notice email, escalation
// contacts per warning, deadlines (urgent 4h, normal 24h by default) and the
// "content unavailable" page markers. Deadline(p, urgency, from) gives a
// notice's deadline; Config.ForHost maps a URL host to its platform.
//
// Sending: Client.Send(ctx, Request) picks the adapter. A takedown goes to
// a webhook platform as a signed JSON POST (Webhook), to an email platform
// as a formal notice (EmailSender); warnings 1-3 go by email to the
// platform's escalation contacts.
//
// Letters: both adapters send what Letters.Write composes from a Request:
// a letter number (TKL/<case id>/<PK|P1|P2|P3>/<year>), a subject such as
// "Permintaan Penurunan Konten – Nomor TKL/…/PK/2026 – Takedown request",
// the Indonesian part then the English one with dates in WIB written each
// language's way (TanggalID/WaktuID, DateEN/TimeEN), the risk indicators
// of Request.Findings named in both languages (Client.Names, from the risk
// rules), and a signed, expiring link to the stored copy of the ad
// (Client.EvidenceLinks) instead of where it is kept. Every notice carries
// Request.IdempotencyKey() = case id + ":" + kind + ":" + attempt, so a task
// that runs twice sends the same key and the platform deduplicates (webhook:
// Idempotency-Key header; email: the outbox.IdempotencyHeader header).
//
// Webhook wire format: POST <webhook_url> with headers Content-Type:
// application/json, Idempotency-Key, X-Tangkal-Timestamp (unix seconds) and
// X-Tangkal-Signature: v1=hex(HMAC-SHA256(secret, timestamp + "." + body));
// body WebhookPayload (the facts, plus the letter's number, subject,
// named indicators, evidence_copy {url, sha256, expires_at} and its text as
// notice); a 2xx answer is WebhookAnswer {"reference": ...}.
// Status API: GET <status_url>?url=<ad url>, signed the same way with the ad
// URL as the payload, answering StatusAnswer {"status": removed|live|unknown}.
//
// Errors: 429, 5xx, network failures and mailer failures are
// *TransientError (retry); other 4xx are *RejectedError. Lambda reports an
// error's type name to Step Functions, so return these values unwrapped
// (errors.As, then return the *TransientError itself) for ErrorEquals
// ["TransientError"] / ["RejectedError"] to match.
package platform
