DROP TABLE case_links;
DROP TABLE case_events;
DROP TABLE cases;
