// Package request defines a password-reset request and the states it moves
// through, from the slash command to the delivered password. It holds no I/O:
// the store persists requests and the Slack bot drives them.
package request

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"slices"
	"time"
)

// State is where a request stands. The allowed moves are in [CanMove].
type State string

// The states of a request. A request that needs no approval starts in
// Approved; one that does starts in Pending.
const (
	Pending   State = "pending"   // waiting for an approver
	Approved  State = "approved"  // may be reset; after an approval, waits for its owner to ask for the password
	Resetting State = "resetting" // IAM may hold a new password the owner has not seen
	Delivered State = "delivered" // the owner got the password (terminal)
	Failed    State = "failed"    // the reset or the delivery failed; no password is out (terminal)
	Denied    State = "denied"    // an approver said no (terminal)
	Expired   State = "expired"   // nobody decided in time (terminal)
)

// moves lists, for each state, the states it may move to.
var moves = map[State][]State{
	Pending: {Approved, Denied, Expired, Failed},
	// Approved→Expired: the owner never asked for the password.
	// Approved→Approved and Resetting→Approved: after a restart, offered to
	// the owner again instead of reset while they may be away.
	// Resetting→Resetting: IAM holds the new password and it is about to be
	// shown (the request's Outcome says so), so it is never offered again.
	Approved:  {Resetting, Failed, Expired, Approved},
	Resetting: {Delivered, Failed, Approved, Resetting},
}

// CanMove reports whether a request may move from one state to another.
func CanMove(from, to State) bool {
	return slices.Contains(moves[from], to)
}

// Terminal reports whether no move leaves s.
func (s State) Terminal() bool { return len(moves[s]) == 0 }

// Active reports whether a request in state s still holds its owner's
// place: while one is active, the owner gets no second request.
func (s State) Active() bool { return !s.Terminal() }

// ActiveStates are the states in which a request is not finished.
func ActiveStates() []State { return []State{Pending, Approved, Resetting} }

// Request is one person's request for a new console password.
type Request struct {
	ID          string // public ID shown in Slack, logs and the audit trail
	Token       string // secret random value carried by the approval buttons; never logged
	EnvelopeID  string // Socket Mode envelope that created it, so a redelivery is noticed
	TeamID      string // workspace of the owner
	SlackUser   string // owner: the person whose password is reset and who gets it
	IAMUser     string
	Account     string // configured AWS account name (aws.accounts[].name); "" for the bot's own account
	Reason      string // why, in the requester's words (never trusted as markup: escaped wherever shown)
	RequestedBy string // who asked: the owner, or an approver acting for them
	State       State

	ApprovalChannel string // channel and timestamp of the approval message, if any
	ApprovalTS      string
	DecidedBy       string
	DecidedAt       time.Time

	Outcome   string // short machine word for how it ended (e.g. "no_login_profile")
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time // Pending: when undecided expires; Approved by an approver: when the unclaimed offer expires
}

// NewID returns a fresh public request ID such as "R7KQ2M4XPT9".
func NewID() string { return "R" + randomString(10) }

// NewToken returns a fresh secret token for approval buttons.
func NewToken() string { return randomString(32) }

var encoding = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails; see crypto/rand.Read
	return encoding.EncodeToString(b)[:n]
}

// ValidToken reports whether s has the shape of a token from NewToken.
func ValidToken(s string) bool {
	return len(s) == 32 && validChars(s)
}

func validChars(s string) bool {
	for _, c := range s {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ValidID reports whether s has the shape of a request ID, so that text
// from a payload is checked before it reaches a log line or a query.
func ValidID(s string) bool {
	return len(s) == 11 && s[0] == 'R' && validChars(s[1:])
}

// AuditEvent is one append-only row of the audit trail. It never holds a
// password.
type AuditEvent struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id,omitempty"`
	Action    string    `json:"action"`          // see the Action constants
	Actor     string    `json:"actor,omitempty"` // Slack user who caused it; "" for the bot itself
	Target    string    `json:"target,omitempty"`
	IAMUser   string    `json:"iam_user,omitempty"`
	Account   string    `json:"account,omitempty"` // "" for the bot's own account
	Outcome   string    `json:"outcome,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// Audit actions.
const (
	ActionRequested = "requested"
	ActionRefused   = "refused"
	ActionApproved  = "approved"
	ActionDenied    = "denied"
	ActionExpired   = "expired"
	ActionReset     = "reset"
	ActionDelivered = "delivered"
	ActionFailed    = "failed"
	ActionReminded  = "reminded"
	ActionScrambled = "unused_overwritten" // an unused temporary password was replaced by an unknown one
	ActionOffered   = "offered"            // after a restart, offered to its owner's click again
)

// String describes the request for errors and debugging without its token.
func (r Request) String() string {
	return fmt.Sprintf("request %s (%s for %s, %s)", r.ID, r.IAMUser, r.SlackUser, r.State)
}
