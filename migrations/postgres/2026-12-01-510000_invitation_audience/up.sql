-- Keep in step with the other backend's migration: same columns, same meaning.

-- The audience an invitation was made for ('customer' or 'staff'), fixed when it is
-- made: its link records answers in that audience, and its reminders use that
-- audience's wording, even if the contact is later imported into another audience.
ALTER TABLE invitations ADD COLUMN audience TEXT NOT NULL DEFAULT 'customer';
UPDATE invitations
   SET audience = (SELECT contacts.audience FROM contacts WHERE contacts.id = invitations.contact_id);
