DROP TABLE checklist_answers;
ALTER TABLE responses DROP COLUMN audience;
ALTER TABLE contacts DROP COLUMN audience;
