DROP INDEX cases_by_reference;
ALTER TABLE cases DROP COLUMN reference;
