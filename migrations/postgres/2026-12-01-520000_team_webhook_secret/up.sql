-- The environment variable holding the signing secret of a team's webhook
-- (secret_env in routing.toml); empty: the global webhook_secret.
ALTER TABLE outbox ADD COLUMN webhook_secret_env TEXT;
