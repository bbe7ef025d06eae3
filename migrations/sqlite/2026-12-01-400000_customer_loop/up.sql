-- Keep in step with migrations/postgres: same tables, same columns, same meaning.

-- A continuous survey's daily batches (cadence in survey.toml): one row per survey
-- and day (YYYY-MM-DD, UTC), written before the day's invitations, so two workers
-- never send the same day's batch.
CREATE TABLE cadence_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    day TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, day)
);

-- "You said, we did": an area marked improved, with a short text per locale
-- (JSON {"en": ..., "sv": ...}) for the respondents of the waves named (JSON list
-- of wave labels) who mentioned the area and agreed to be contacted.
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    area_id INTEGER NOT NULL REFERENCES areas(id),
    waves TEXT NOT NULL,
    texts TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Who an announcement is for, per wave: pending until the worker sends it (in one
-- email with the contact's other pending announcements), then sent or skipped.
CREATE TABLE announcement_recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    announcement_id INTEGER NOT NULL REFERENCES announcements(id),
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    status TEXT NOT NULL,
    decided_at TIMESTAMP,
    UNIQUE (announcement_id, contact_id, wave_id)
);
CREATE INDEX announcement_recipients_pending ON announcement_recipients (status, contact_id);

-- At most one "you said, we did" email per contact and wave.
CREATE TABLE announcement_emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    wave_id INTEGER NOT NULL REFERENCES waves(id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (contact_id, wave_id)
);

-- A resolved case's follow-up held for review (followup_review = true in
-- survey.toml): the note as the team wrote it, until an analyst approves or rejects.
-- status: awaiting, approved, rejected.
CREATE TABLE followup_reviews (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
