-- Each approver's approval of a pending request, once per approver: a
-- request needing several approvals counts the rows here, in the same
-- transaction that adds one.

-- +goose Up
CREATE TABLE approvals (
	request_id  TEXT    NOT NULL REFERENCES requests (id),
	approver    TEXT    NOT NULL,
	approved_at INTEGER NOT NULL,
	PRIMARY KEY (request_id, approver)
) STRICT;

-- +goose Down
DROP TABLE approvals;
