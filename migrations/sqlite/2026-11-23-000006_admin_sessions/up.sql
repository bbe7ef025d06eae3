-- Keep in step with migrations/postgres: same tables, same columns, same meaning.

-- Dashboard sessions. After a login with an API key the browser holds a random
-- 256-bit token in an HttpOnly cookie; only its SHA-256 hash is stored here. The
-- CSRF token is per session and goes into every form of the dashboard. A session
-- opens nothing after expires_at, or once its key is revoked; logout deletes it.
CREATE TABLE admin_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    key_id INTEGER NOT NULL REFERENCES api_keys(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
