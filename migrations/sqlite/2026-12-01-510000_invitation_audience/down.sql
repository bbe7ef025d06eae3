ALTER TABLE invitations DROP COLUMN audience;
