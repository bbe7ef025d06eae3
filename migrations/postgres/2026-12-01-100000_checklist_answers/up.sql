-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.

-- Who a contact is to a study: 'customer' (the default) or 'staff', who answer a
-- checklist "as you think our customers would". Staff answers never count in
-- customer results; they are compared with them (docs/METHOD.md §5).
ALTER TABLE contacts ADD COLUMN audience TEXT NOT NULL DEFAULT 'customer';
-- The audience a response was given in (the contact's when it was stored, or the
-- import file's), so a later change of the contact does not move old answers.
ALTER TABLE responses ADD COLUMN audience TEXT NOT NULL DEFAULT 'customer';

-- A checklist survey's answers: one row per response and item. item_id is the id
-- in the survey's checklist.toml. experienced: never, sometimes, often; bother
-- 1-5 and solved_elsewhere (yes, no, dont_know) only when sometimes or often.
-- position: the item's 1-based place in the order this respondent was shown
-- (shuffled per invitation), NULL for answers imported from phone or paper.
CREATE TABLE checklist_answers (
    id BIGSERIAL PRIMARY KEY,
    response_id BIGINT NOT NULL REFERENCES responses(id),
    item_id TEXT NOT NULL,
    position INTEGER,
    experienced TEXT NOT NULL,
    bother INTEGER,
    solved_elsewhere TEXT,
    UNIQUE (response_id, item_id)
);
CREATE INDEX checklist_answers_by_item ON checklist_answers (item_id);
