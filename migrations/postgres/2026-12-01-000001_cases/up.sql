-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.

-- Cases: every complaint routed to a team, with what the team did about it.
-- One case per (response, team, rank): a corrected answer updates the case's text.
-- `text` is the customer's words as stored in mentions; `may_contact` their
-- consent for this problem. Status: open, acknowledged, resolved, declined.
CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    response_id BIGINT NOT NULL REFERENCES responses(id),
    team TEXT NOT NULL,
    team_name TEXT NOT NULL,
    team_locale TEXT NOT NULL,
    rank INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_key TEXT NOT NULL,
    may_contact INTEGER NOT NULL,
    status TEXT NOT NULL,
    assignee TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cases_by_response ON cases (response_id, team);
CREATE INDEX cases_by_survey_status ON cases (survey_id, status);

-- The audit trail of a case: appended, never updated or deleted.
CREATE TABLE case_events (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT
);
CREATE INDEX case_events_by_case ON case_events (case_id);

-- One-click links in the complaint email: one random token per action, stored only
-- as its SHA-256 hash, usable once, until expires_at.
CREATE TABLE case_links (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    action TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
