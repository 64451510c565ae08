-- The AWS account a request is for ('' is the bot's own account, as for
-- every request made before accounts existed) and the reason its requester
-- gave; the same on each audit row.

-- +goose Up
ALTER TABLE requests ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN account TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit DROP COLUMN reason;
ALTER TABLE audit DROP COLUMN account;
ALTER TABLE requests DROP COLUMN reason;
ALTER TABLE requests DROP COLUMN account;
