DROP INDEX responses_invitation;
ALTER TABLE responses ADD CONSTRAINT responses_invitation_id_key UNIQUE (invitation_id);
CREATE TABLE imported_responses (
    id BIGSERIAL PRIMARY KEY,
    response_id BIGINT NOT NULL UNIQUE REFERENCES responses(id),
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    wave_id BIGINT NOT NULL REFERENCES waves(id),
    respondent TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    UNIQUE (survey_id, wave_id, respondent)
);
INSERT INTO imported_responses (response_id, survey_id, wave_id, respondent, imported_at)
    SELECT id, survey_id, wave_id, respondent, submitted_at FROM responses
    WHERE respondent IS NOT NULL ORDER BY id;
CREATE INDEX responses_survey_wave ON responses (survey_id, wave_id);
DROP INDEX responses_respondent;
ALTER TABLE responses DROP COLUMN respondent;
