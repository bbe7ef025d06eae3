DROP TABLE imported_responses;
