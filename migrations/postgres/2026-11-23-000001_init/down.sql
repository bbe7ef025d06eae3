DROP TABLE outbox;
DROP TABLE mentions;
DROP TABLE areas;
DROP TABLE responses;
DROP TABLE invitations;
DROP TABLE contacts;
DROP TABLE waves;
DROP TABLE surveys;
