DROP TABLE coding_decisions;
ALTER TABLE mentions DROP COLUMN coding_note;
DROP INDEX areas_survey;
ALTER TABLE areas DROP COLUMN merged_into;
ALTER TABLE areas DROP COLUMN team;
ALTER TABLE areas DROP COLUMN labels;
ALTER TABLE areas DROP COLUMN status;
ALTER TABLE areas DROP COLUMN origin;
DROP TABLE codebooks;
