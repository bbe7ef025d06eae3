-- Keep in step with the other backend: same columns, same meaning.

-- A case's short reference, shown to the team in the subject of its email and
-- used to find the case again (`pds cases show REF`). Random, so that it can be
-- written into the email before the case row exists; cases opened before this
-- migration have none.
ALTER TABLE cases ADD COLUMN reference TEXT;
CREATE UNIQUE INDEX cases_by_reference ON cases (reference);

-- The Reply-To of an email: a complaint to a team replies to the customer who
-- agreed to be contacted; NULL for every other email.
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
