-- Keep in step with migrations/postgres: same tables, same columns, same meaning.

-- What the dashboard reads at every page view, kept up to date by the writes that
-- change it (src/survey/summary.rs) instead of scanning every mention and
-- response of the survey: when its mentions were last coded (by `pds code`, an
-- analyst or an import naming areas), and the segment attributes its respondents
-- carry. One row per survey, made with the survey.
CREATE TABLE survey_summaries (
    survey_id BIGINT PRIMARY KEY REFERENCES surveys(id),
    last_coded_at TIMESTAMP
);
-- The names of the segment attributes that some respondent of the survey has a
-- value for (never the values).
CREATE TABLE survey_attributes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    name TEXT NOT NULL,
    UNIQUE (survey_id, name)
);

-- The latest answer of a survey (the dashboard's freshness stamp) from the index
-- instead of from every response row.
CREATE INDEX responses_survey_updated ON responses (survey_id, updated_at);

INSERT INTO survey_summaries (survey_id, last_coded_at)
SELECT s.id, (SELECT max(m.coded_at) FROM responses r JOIN mentions m ON m.response_id = r.id
              WHERE r.survey_id = s.id)
FROM surveys s;
INSERT INTO survey_attributes (survey_id, name)
SELECT DISTINCT r.survey_id, a.key
FROM responses r, json_each(CASE WHEN json_valid(r.attributes) AND json_type(r.attributes) = 'object'
                                 THEN r.attributes ELSE '{}' END) a
WHERE a.type <> 'null'
ORDER BY r.survey_id, a.key;
