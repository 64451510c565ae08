package fakeslack

// PublishedTiers returns Slack's documented rate limits, in calls per minute, for the Web API
// methods this fake serves, for use as Options.RateLimits. Slack states them as minimums per
// method, workspace and app:
//
//   - Tier 2 (20+/min): usergroups.users.list
//   - Tier 3 (50+/min): apps.connections.open, chat.update, conversations.info, conversations.open
//   - Tier 4 (100+/min): chat.postEphemeral, users.info, views.open, views.publish
//   - special: chat.postMessage, about one message per second per channel, taken as 60/min;
//     auth.test, "hundreds of requests per minute", taken as 100/min.
//
// The map is new on every call.
func PublishedTiers() map[string]int {
	return map[string]int{
		"apps.connections.open": 50,
		"auth.test":             100,
		"chat.postEphemeral":    100,
		"chat.postMessage":      60,
		"chat.update":           50,
		"conversations.info":    50,
		"conversations.open":    50,
		"usergroups.users.list": 20,
		"users.info":            100,
		"views.open":            100,
		"views.publish":         100,
	}
}
