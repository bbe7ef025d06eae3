ALTER TABLE outbox DROP COLUMN reply_to;
DROP INDEX cases_by_reference;
ALTER TABLE cases DROP COLUMN reference;
