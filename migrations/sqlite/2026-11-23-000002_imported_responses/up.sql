-- Keep in step with migrations/postgres. Responses collected elsewhere (phone, paper,
-- another tool) and imported with `pds responses import`: the respondent id from the
-- file, unique per survey and wave, so that importing a file again replaces answers
-- instead of adding them twice.
CREATE TABLE imported_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    response_id BIGINT NOT NULL UNIQUE REFERENCES responses(id),
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    wave_id BIGINT NOT NULL REFERENCES waves(id),
    respondent TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, wave_id, respondent)
);
