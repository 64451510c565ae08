package workflow

import (
	"context"

	"github.com/aws-reset-bot/aws-reset-bot/internal/slacktext"
)

// ViewMessenger is what the reason modal, the Home tab and the approvers'
// reminder need of Slack, beside the messages of Messenger.
type ViewMessenger interface {
	// OpenView opens a modal for the person whose command or click gave
	// triggerID (views.open; the trigger lasts about 3 seconds).
	OpenView(ctx context.Context, triggerID string, v slacktext.View) error
	// PublishView sets a person's Home tab (views.publish).
	PublishView(ctx context.Context, userID string, v slacktext.View) error
	// Reply posts m in the thread of the message at (channel, threadTS).
	Reply(ctx context.Context, channel, threadTS string, m slacktext.Message) (ts string, err error)
}

// ViewSubmission is a modal's submission as the workflow sees it. The
// transport fills it from a view_submission payload.
type ViewSubmission struct {
	ViewID, CallbackID, PrivateMetadata string
	// Values are the inputs' values by block ID, then action ID.
	Values               map[string]map[string]string
	UserID, UserTeamID   string
	TeamID, EnterpriseID string
}

// HomeOpened is a person opening the app's Home tab (app_home_opened).
type HomeOpened struct {
	UserID, TeamID, EnterpriseID string
	Tab                          string // "home" or "messages"
}
