ALTER TABLE outbox DROP COLUMN reply_to;
ALTER TABLE outbox DROP COLUMN sender_name;
