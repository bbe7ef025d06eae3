-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.
CREATE TABLE surveys (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    max_problems INTEGER NOT NULL,
    closes_at TIMESTAMP,
    definition TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE waves (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, label)
);

CREATE TABLE contacts (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    locale TEXT NOT NULL,
    attributes TEXT NOT NULL,
    unsubscribed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    wave_id BIGINT NOT NULL REFERENCES waves(id),
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    opened_at TIMESTAMP,
    answered_at TIMESTAMP,
    UNIQUE (wave_id, contact_id)
);
CREATE INDEX invitations_survey ON invitations (survey_id);

CREATE TABLE responses (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    wave_id BIGINT NOT NULL REFERENCES waves(id),
    invitation_id BIGINT UNIQUE REFERENCES invitations(id),
    contact_id BIGINT REFERENCES contacts(id),
    locale TEXT NOT NULL,
    attributes TEXT NOT NULL,
    no_problems INTEGER NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX responses_survey_wave ON responses (survey_id, wave_id);

CREATE TABLE areas (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, key)
);

CREATE TABLE mentions (
    id BIGSERIAL PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES responses(id),
    rank INTEGER NOT NULL,
    text TEXT NOT NULL,
    frequency TEXT,
    may_contact INTEGER NOT NULL,
    area_id BIGINT REFERENCES areas(id),
    coded_by TEXT,
    coded_at TIMESTAMP
);
CREATE INDEX mentions_response ON mentions (response_id);
CREATE INDEX mentions_area ON mentions (area_id);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    invitation_id BIGINT REFERENCES invitations(id),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
