DROP TABLE followup_reviews;
DROP TABLE announcement_emails;
DROP TABLE announcement_recipients;
DROP TABLE announcements;
DROP TABLE cadence_runs;
