-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.

-- Routing rules of a survey (routing.toml), editable after the survey is created.
CREATE TABLE routing (
    survey_id BIGINT PRIMARY KEY REFERENCES surveys(id),
    definition TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per complaint routed to a team: an updated answer with the same words does
-- not route the same complaint twice.
CREATE TABLE routed_complaints (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    response_id BIGINT NOT NULL REFERENCES responses(id),
    team TEXT NOT NULL,
    text_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (response_id, team, text_key)
);

-- Further personal links to the same invitation (one per reminder), stored hashed.
CREATE TABLE invitation_tokens (
    id BIGSERIAL PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

-- Personal unsubscribe links, stored hashed.
CREATE TABLE unsubscribe_tokens (
    id BIGSERIAL PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    invitation_id BIGINT REFERENCES invitations(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

-- The List-Unsubscribe URL of a message (emptied after delivery, like the bodies),
-- and the contact a survey email goes to (so an unsubscribe stops queued mail too).
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT;
ALTER TABLE outbox ADD COLUMN contact_id BIGINT REFERENCES contacts(id);
CREATE INDEX outbox_invitation ON outbox (invitation_id);
