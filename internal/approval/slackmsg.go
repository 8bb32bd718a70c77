package approval

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/tangkal/tangkal/internal/agency"
)

// SlackMessenger is what approvals need of Slack's Web API
// (internal/slack.Client with slack-go; locally the Slack stand-in).
type SlackMessenger interface {
	// Post posts a message (in thread when thread is not empty) and
	// returns its channel id and timestamp.
	Post(ctx context.Context, channel, thread, text string, blocks []slack.Block) (channelID, ts string, err error)
	// Update replaces a message in place.
	Update(ctx context.Context, channel, ts, text string, blocks []slack.Block) error
	// OpenView opens a modal for the user who clicked (trigger id).
	OpenView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error
	// Respond posts to an interaction's response URL (ephemeral).
	Respond(ctx context.Context, responseURL, text string) error
}

// SlackMessage is where an agency's approval message is in Slack.
type SlackMessage struct {
	Channel string   `json:"channel"`
	TS      string   `json:"ts"`
	Posted  []string `json:"posted,omitempty"` // "<tier>:<kind>" already posted
}

// Slack action ids of the approval buttons (their value is the approval
// id, never the task token) and of the reason modal.
const (
	ActionApprove  = "tangkal_approve"
	ActionReject   = "tangkal_reject"
	ActionHold     = "tangkal_hold"
	ActionOpen     = "tangkal_open"
	CallbackReason = "tangkal_reason"
	BlockReason    = "reason"
	InputReason    = "reason_input"
)

// ParseAction maps a Slack button (action id, value) to an approval id and
// decision; ok is false for actions that are not approval buttons.
func ParseAction(actionID, value string) (id, decision string, ok bool) {
	switch actionID {
	case ActionApprove:
		decision = Approve
	case ActionReject:
		decision = Reject
	case ActionHold:
		decision = Hold
	default:
		return "", "", false
	}
	if value == "" || strings.ContainsAny(value, "|/?#") || !strings.HasPrefix(value, IDPrefix) {
		return "", "", false
	}
	return value, decision, true
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// SlackText is the message's fallback text (notifications).
func (m Message) SlackText() string { return m.Subject() }

// SlackBlocks is the Block Kit message for the agency's channel: the
// summary, indicators, related cases, and Approve / Reject / Hold
// buttons carrying the approval id.
func (m Message) SlackBlocks(approvalID string) []slack.Block {
	v := m.view()
	s := v.Summary
	head := "Persetujuan penurunan konten diperlukan"
	switch {
	case m.Reminder:
		head = "Pengingat: persetujuan diperlukan"
	case m.Escalation:
		head = "Eskalasi: persetujuan diperlukan"
	}
	if m.urgent() {
		head = "MENDESAK · " + head
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(head)),
		slack.NewSectionBlock(mrkdwn(fmt.Sprintf("*%s (%s)* diminta memutuskan / is asked to decide.\n*Iklan / Ad:* %s",
			slackEscape(m.Agency.NameID), m.Agency.Short(), slackEscape(s.URL))), []*slack.TextBlockObject{
			mrkdwn("*Kasus / Case*\n" + slackEscape(s.CaseID)),
			mrkdwn("*Platform*\n" + slackEscape(s.Platform)),
			mrkdwn("*Urgensi / Urgency*\n" + v.UrgencyID + " / " + v.UrgencyEN),
			mrkdwn("*Skor / Score*\n" + v.Score),
			mrkdwn("*Batas waktu / Deadline*\n" + v.Deadline),
			mrkdwn("*Diperlukan / Needed*\n" + slackEscape(v.Needs)),
		}, nil),
	}
	if s.Excerpt != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("> "+slackEscape(s.Excerpt)), nil, nil))
	}
	if len(s.Indicators) > 0 {
		var lines []string
		for _, in := range s.Indicators {
			l := "• *" + slackEscape(in.Name()) + "*"
			if e := in.Explained(); e != "" {
				l += ": " + slackEscape(e)
			}
			if in.Evidence != "" {
				l += " _(“" + slackEscape(in.Evidence) + "”)_"
			}
			lines = append(lines, l)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Alasan ditandai / Why it was flagged*\n"+clip(strings.Join(lines, "\n"))), nil, nil))
	}
	if len(s.Related) > 0 {
		var lines []string
		for _, r := range s.Related {
			lines = append(lines, "• "+slackEscape(r.Sentence()))
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Kasus terkait / Related cases*\n"+clip(strings.Join(lines, "\n"))), nil, nil))
	}
	approve := slack.NewButtonBlockElement(ActionApprove, approvalID, plain("Setujui / Approve")).WithStyle(slack.StylePrimary).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Kirim permintaan penurunan?"),
			mrkdwn("Persetujuan "+m.Agency.Short()+" dicatat. / "+m.Agency.Short()+"'s approval is recorded."),
			plain("Setujui / Approve"), plain("Batal / Cancel")))
	reject := slack.NewButtonBlockElement(ActionReject, approvalID, plain("Tolak / Reject")).WithStyle(slack.StyleDanger)
	elements := []slack.BlockElement{approve, reject}
	if m.Role == RoleHold {
		elements = []slack.BlockElement{slack.NewButtonBlockElement(ActionHold, approvalID, plain("Tahan / Hold"))}
	}
	blocks = append(blocks, slack.NewActionBlock("decide", elements...))
	return blocks
}

// clip keeps a section's text within Slack's 3000-character limit.
func clip(s string) string {
	if len(s) <= 2900 {
		return s
	}
	return s[:2900] + "…"
}

// DecidedBlocks replaces the buttons once the agency decided: "Disetujui
// oleh … (KP2MI), 10.42 WIB".
func DecidedBlocks(original []slack.Block, d AgencyDecision, name string) []slack.Block {
	var out []slack.Block
	for _, b := range original {
		if b.BlockType() == slack.MBTAction {
			continue
		}
		out = append(out, b)
	}
	return append(out, slack.NewContextBlock("decided", mrkdwn(DecidedLine(d, name))))
}

// DecidedLine says who decided what, when, in Slack's mrkdwn: "Disetujui
// oleh Petugas Komdigi (Komdigi), 10.42 WIB / Approved by …".
func DecidedLine(d AgencyDecision, name string) string {
	line := slackEscape(decidedHead(d, name))
	if d.Reason != "" {
		line += "\n_Alasan / Reason:_ " + slackEscape(d.Reason)
	}
	return line
}

// DecidedPlain is DecidedLine as plain text.
func DecidedPlain(d AgencyDecision, name string) string {
	line := decidedHead(d, name)
	if d.Reason != "" {
		line += " — Alasan / Reason: " + d.Reason
	}
	return line
}

func decidedHead(d AgencyDecision, name string) string {
	short := agency.Agency{ID: d.Agency}.Short()
	verbID, verbEN := "Disetujui", "Approved"
	switch d.Decision {
	case Reject:
		verbID, verbEN = "Ditolak", "Rejected"
	case Hold:
		verbID, verbEN = "Ditahan", "Held"
	case Release:
		verbID, verbEN = "Penahanan dicabut", "Hold released"
	}
	if name == "" {
		name = d.By
	}
	return fmt.Sprintf("%s oleh %s (%s), %s / %s by %s (%s)", verbID, name, short, JamWIB(d.At), verbEN, name, short)
}

// ReasonModal asks for the reason of a reject or hold; the approval id
// and decision travel in private_metadata.
func ReasonModal(approvalID, decision, caseID string) slack.ModalViewRequest {
	title := "Tolak / Reject"
	if decision == Hold {
		title = "Tahan / Hold"
	}
	input := slack.NewPlainTextInputBlockElement(plain("Mengapa? / Why?"), InputReason)
	input.Multiline = true
	input.MaxLength = MaxReason
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain(title), CallbackID: CallbackReason,
		Submit: plain("Kirim / Submit"), Close: plain("Batal / Cancel"),
		PrivateMetadata: approvalID + "|" + decision,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn("Kasus / Case *"+slackEscape(caseID)+"*: alasan dicatat dalam riwayat kasus. / the reason is recorded in the case history."), nil, nil),
			slack.NewInputBlock(BlockReason, plain("Alasan / Reason"), nil, input),
		}},
	}
}

// ParseModal reads a reason modal's private_metadata.
func ParseModal(meta string) (id, decision string, ok bool) {
	id, decision, ok = strings.Cut(meta, "|")
	if !ok || !strings.HasPrefix(id, IDPrefix) || strings.ContainsAny(id, "/?#") || (decision != Reject && decision != Hold) {
		return "", "", false
	}
	return id, decision, true
}

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

var _ = time.Second
