DROP INDEX responses_survey_updated;
DROP TABLE survey_attributes;
DROP TABLE survey_summaries;
