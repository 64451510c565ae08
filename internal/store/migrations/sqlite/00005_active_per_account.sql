-- One active request, and one cooldown, per owner and AWS account: the same
-- person may be listed once in each account (aws.accounts), and a reset in
-- one must not block or delay a reset in another. Rows from before
-- accounts are the bot's own account (''), so the new index holds for them
-- as the old one did.

-- +goose Up
DROP INDEX requests_one_active_per_owner;
CREATE UNIQUE INDEX requests_one_active_per_owner_account ON requests (slack_user, account)
	WHERE state IN ('pending', 'approved', 'resetting');
DROP INDEX requests_delivered;
CREATE INDEX requests_delivered ON requests (slack_user, account, delivered_at)
	WHERE delivered_at IS NOT NULL;

-- +goose Down
DROP INDEX requests_delivered;
CREATE INDEX requests_delivered ON requests (slack_user, delivered_at)
	WHERE delivered_at IS NOT NULL;
DROP INDEX requests_one_active_per_owner_account;
CREATE UNIQUE INDEX requests_one_active_per_owner ON requests (slack_user)
	WHERE state IN ('pending', 'approved', 'resetting');
