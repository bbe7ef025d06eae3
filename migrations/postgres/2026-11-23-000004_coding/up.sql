-- Keep in step with migrations/sqlite: same tables, same columns, same meaning.

-- A survey's codebook (codebook.toml): the analysts' areas and their rules, stored
-- apart from the survey's files so that `pds areas codebook` can replace it.
CREATE TABLE codebooks (
    survey_id BIGINT PRIMARY KEY REFERENCES surveys(id),
    definition TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- How an area came to be and where it stands:
--   origin: 'rule' (a codebook area), 'automatic' (proposed by grouping),
--           'analyst' (made by a split), 'import' (named in an imported file);
--   status: 'proposed' (coding may change it), 'accepted' (an analyst's),
--           'merged' (merged into merged_into; kept so that coding follows it);
--   labels: the label per locale as JSON ({"sv": "...", "en": "..."}), or '{}';
--   team: the team that owns the area (codebook), if any.
ALTER TABLE areas ADD COLUMN origin TEXT NOT NULL DEFAULT 'import';
ALTER TABLE areas ADD COLUMN status TEXT NOT NULL DEFAULT 'accepted';
ALTER TABLE areas ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE areas ADD COLUMN team TEXT;
ALTER TABLE areas ADD COLUMN merged_into BIGINT REFERENCES areas(id);
CREATE INDEX areas_survey ON areas (survey_id);

-- Why a mention is in its area: "matched leverans* (\"leveransen\")", "similar to
-- the proposal (0.62)", "moved by analyst". coded_by says who: 'rule', 'automatic',
-- 'analyst', 'import', or 'none' when coding ran and could not place the mention.
ALTER TABLE mentions ADD COLUMN coding_note TEXT;

-- Every analyst decision, in order: what was done, to which area, when.
CREATE TABLE coding_decisions (
    id BIGSERIAL PRIMARY KEY,
    survey_id BIGINT NOT NULL REFERENCES surveys(id),
    action TEXT NOT NULL,
    area_id BIGINT,
    detail TEXT NOT NULL,
    decided_at TIMESTAMP NOT NULL
);
CREATE INDEX coding_decisions_survey ON coding_decisions (survey_id);
