-- The From display name and Reply-To of a customer email: the survey's sender
-- and reply address in the customer's language (survey.toml), not the
-- server-wide mail_from name.
ALTER TABLE outbox ADD COLUMN sender_name TEXT;
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
