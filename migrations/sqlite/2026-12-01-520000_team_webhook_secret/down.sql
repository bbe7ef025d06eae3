ALTER TABLE outbox DROP COLUMN webhook_secret_env;
