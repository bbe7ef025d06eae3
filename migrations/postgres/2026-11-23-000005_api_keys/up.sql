-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.

-- Admin API keys. The key itself is shown once by `pds keys create` and never
-- stored: only its SHA-256 hash (64 hex digits). A revoked key keeps its row so that
-- `pds keys list` shows when it was revoked; its name cannot be reused.
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
