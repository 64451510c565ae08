package fakeslack_test

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/aws-reset-bot/aws-reset-bot/internal/fakeslack"
)

// The Web API: point a real slack-go client at the fake, then look at what it stored.
func Example_webAPI() {
	s := fakeslack.New(fakeslack.Options{})
	defer s.Close()
	s.AddUser(fakeslack.User{ID: "U0ALICE001", Name: "alice"})

	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(s.APIURL()))
	ch, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U0ALICE001"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, _, err := api.PostMessage(ch.ID, slack.MsgOptionText("Your password was reset.", false)); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range s.Messages() {
		fmt.Printf("%s: %s\n", m.Channel, m.Text)
	}
	// Output: D0ALICE001: Your password was reset.
}

// Socket Mode: a real socketmode client connects; the fake plays a user's slash command and
// sees the ack.
func Example_socketMode() {
	s := fakeslack.New(fakeslack.Options{})
	defer s.Close()
	s.AddUser(fakeslack.User{ID: "U0ALICE001", Name: "alice"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(fakeslack.AppToken))
	client := socketmode.New(api)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.RunContext(ctx)
	}()
	defer func() { cancel(); <-done }()
	go func() { // the app: ack every slash command
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				if evt.Type == socketmode.EventTypeSlashCommand {
					cmd := evt.Data.(slack.SlashCommand)
					_ = client.Ack(*evt.Request, map[string]string{"text": "resetting for " + cmd.UserName})
				}
			}
		}
	}()

	id, err := s.SlashCommand(ctx, fakeslack.SlashCommand{UserID: "U0ALICE001", Text: "prod"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ack, err := s.WaitAck(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(ack.Payload))
	// Output: {"text":"resetting for alice"}
}
