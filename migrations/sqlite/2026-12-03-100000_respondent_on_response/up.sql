-- Keep in step with migrations/postgres. An imported response's respondent id (from the
-- file of `pds responses import`, or of a checklist import) moves from its own table
-- onto the response: still unique per survey and wave, so that importing a file again
-- replaces answers instead of adding them twice; NULL for an answer given through the
-- form. One table fewer to write, key and check at every import (a million
-- respondents wrote a second row each). When the response was imported is its
-- submitted_at, as it was the table's imported_at. The unique index also serves
-- look-ups by survey and wave, which had an index of their own (one index fewer to
-- build again after a large import).
ALTER TABLE responses ADD COLUMN respondent TEXT;
UPDATE responses SET respondent = i.respondent
    FROM imported_responses i WHERE i.response_id = responses.id;
CREATE UNIQUE INDEX responses_respondent ON responses (survey_id, wave_id, respondent);
DROP INDEX responses_survey_wave;
DROP TABLE imported_responses;
