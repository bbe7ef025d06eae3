-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.

-- A checklist answer saved half-way ("Save and continue later"): one row per
-- invitation, the answers chosen so far as a JSON object of the form's fields
-- (e.g. {"experienced_late-delivery": "often", "problem_1": "..."}), never
-- checked for completeness and never counted in results. Deleted when the answer
-- is sent (in the same transaction) and when the contact is erased, since it can
-- hold written-in text.
CREATE TABLE checklist_drafts (
    invitation_id BIGINT PRIMARY KEY REFERENCES invitations(id),
    answers TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
