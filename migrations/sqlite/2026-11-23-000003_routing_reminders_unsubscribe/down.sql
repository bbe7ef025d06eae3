DROP INDEX outbox_invitation;
ALTER TABLE outbox DROP COLUMN contact_id;
ALTER TABLE outbox DROP COLUMN list_unsubscribe;
DROP TABLE unsubscribe_tokens;
DROP TABLE invitation_tokens;
DROP TABLE routed_complaints;
DROP TABLE routing;
