//! Storing the second reading's rows: response ids chosen beforehand, earlier
//! answers of the same respondents replaced first, then on SQLite rows gathered
//! into batches (their texts in one buffer until the batch is built) for
//! `sqlite.rs`'s prepared multi-row INSERTs; PostgreSQL streams them instead
//! (`pg_copy.rs`), with what it needs to know of each respondent from here. Runs
//! inside the import's one transaction; decides nothing about the file's validity.

use std::sync::Arc;

use diesel::prelude::*;

use super::check::Respondents;
use super::rows::{Batch, MentionRow, ResponseRow, Shared, Stamp};
use super::{segment_attributes, ResponsesReport, SEGMENT_ATTRIBUTE};
use crate::coding;
use crate::db::schema::{areas, mentions, responses};
use crate::db::{now, AnyConnection};
use crate::error::Result;
use crate::survey::{store as survey_store, summary, StoredSurvey};

/// Rows gathered before they are stored: 2,000 mentions keep a batch of texts to a
/// few hundred KiB.
pub(super) const BATCH: usize = 2_000;

/// A mention waiting for its batch; its text is in [`Writer::texts`].
struct Pending {
    response_id: i64,
    rank: u32,
    text_end: usize,
    area_id: Option<i64>,
}

/// Ids for new responses on SQLite, taken before their rows are written: the
/// write transaction holds the only write lock, so the ids after the highest ever
/// used are ours. (PostgreSQL takes them from its sequence: `pg_copy.rs`.)
#[derive(Default)]
struct ResponseIds {
    next: Vec<i64>,
    /// The last id handed out (ids handed out are not all written yet).
    last: Option<i64>,
}

impl ResponseIds {
    fn take(&mut self, conn: &mut AnyConnection) -> Result<i64> {
        if let Some(id) = self.next.pop() {
            return Ok(id);
        }
        use diesel::dsl::sql;
        use diesel::sql_types::BigInt;
        let highest: i64 = match self.last {
            Some(last) => last,
            None => diesel::select(sql::<BigInt>(
                "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'responses'), 0), \
                 COALESCE((SELECT MAX(id) FROM responses), 0))",
            ))
            .get_result(conn)?,
        };
        self.last = Some(highest + BATCH as i64);
        self.next = (highest + 1..=highest + BATCH as i64).rev().collect();
        self.next
            .pop()
            .ok_or_else(|| diesel::result::Error::NotFound.into())
    }
}

/// The second reading's rows, gathered into batches and stored.
pub(super) struct Writer<'a> {
    survey: &'a StoredSurvey,
    respondents: Arc<Respondents>,
    stamp: Stamp,
    wave_ids: Vec<i64>,
    /// The `attributes` JSON of each segment (index 0: no segment).
    attributes: Vec<String>,
    /// Per respondent: their response id once known (0: not yet), unless
    /// respondent `n`'s response id is `first_response` plus `n` (`number_responses_from`).
    response_of: Vec<i64>,
    first_response: Option<i64>,
    /// Per respondent: whether a row of theirs was handed on yet.
    started: Vec<bool>,
    ids: ResponseIds,
    area_ids: hashbrown::HashMap<String, i64>,
    /// Whether the survey's summary knows that this import coded mentions.
    noted_coded: bool,
    new_responses: Vec<u32>,
    /// The texts of the batch's mentions, one after the other.
    texts: String,
    mentions: Vec<Pending>,
    /// Respondents begun since the progress bar last moved.
    begun: u64,
    pub(super) report: ResponsesReport,
}

impl<'a> Writer<'a> {
    pub(super) fn new(
        conn: &mut AnyConnection,
        survey: &'a StoredSurvey,
        respondents: Arc<Respondents>,
    ) -> Result<Self> {
        let mut writer = Writer {
            survey,
            stamp: Stamp::now(),
            wave_ids: Vec::new(),
            attributes: Vec::new(),
            response_of: Vec::new(),
            first_response: None,
            started: Vec::new(),
            respondents: Arc::new(Respondents::default()),
            ids: ResponseIds::default(),
            area_ids: hashbrown::HashMap::new(),
            noted_coded: false,
            new_responses: Vec::new(),
            texts: String::new(),
            mentions: Vec::with_capacity(BATCH),
            begun: 0,
            report: ResponsesReport::default(),
        };
        writer.take_respondents(conn, respondents)?;
        Ok(writer)
    }

    /// Takes the file's respondents (their waves and segments). One reading
    /// (`one_pass.rs`) gives them only once its rows are stored.
    pub(super) fn take_respondents(
        &mut self,
        conn: &mut AnyConnection,
        respondents: Arc<Respondents>,
    ) -> Result<()> {
        self.wave_ids.clear();
        for wave in &respondents.waves {
            let id = survey_store::ensure_wave(conn, self.survey.id, wave)?.id;
            self.wave_ids.push(id);
        }
        self.attributes = std::iter::once(None)
            .chain(respondents.segments.iter().map(|s| Some(s.as_str())))
            .map(segment_attributes)
            .collect::<Result<_>>()?;
        if !respondents.segments.is_empty() {
            summary::attribute_names(conn, self.survey.id, &[SEGMENT_ATTRIBUTE.to_string()])?;
        }
        let n = respondents.seen.len();
        self.response_of = vec![0; n];
        self.started = vec![false; n];
        self.respondents = respondents;
        Ok(())
    }

    /// Respondent `n` (of those to come) gets response id `first + n`: only for
    /// a load that holds the tables alone and stores every respondent as new.
    pub(super) fn number_responses_from(&mut self, first: i64) {
        self.first_response = Some(first);
    }

    /// Whether the survey has respondents imported before (whose answers a
    /// file naming them again replaces).
    pub(super) fn any_earlier(&self, conn: &mut AnyConnection) -> Result<bool> {
        let any: Option<i64> = responses::table
            .filter(responses::survey_id.eq(self.survey.id))
            .filter(responses::respondent.is_not_null())
            .select(responses::id)
            .first(conn)
            .optional()?;
        Ok(any.is_some())
    }

    /// Replaces the answers of the file's respondents imported before: their
    /// response rows take the file's segment and shape, their old mentions go.
    /// Done before any new row is stored, so that a bulk load may set indexes
    /// aside after it. Returns how many there were.
    pub(super) fn replace_earlier(&mut self, conn: &mut AnyConnection) -> Result<usize> {
        let earlier = self.find_earlier(conn)?;
        let r = Arc::clone(&self.respondents);
        for chunk in earlier.chunks(500) {
            for &(n, id) in chunk {
                let seen = &r.seen[n as usize];
                diesel::update(responses::table.find(id))
                    .set((
                        responses::attributes.eq(&self.attributes[seen.segment as usize]),
                        responses::no_problems.eq(i32::from(seen.ranks == 0)),
                        responses::updated_at.eq(self.stamp.at),
                    ))
                    .execute(conn)?;
                self.response_of[n as usize] = id;
            }
            let ids: Vec<i64> = chunk.iter().map(|&(_, id)| id).collect();
            diesel::delete(mentions::table.filter(mentions::response_id.eq_any(ids)))
                .execute(conn)?;
        }
        self.report.replaced = earlier.len();
        Ok(earlier.len())
    }

    /// The respondents of the file imported before, without errors: (number, response id).
    fn find_earlier(&self, conn: &mut AnyConnection) -> Result<Vec<(u32, i64)>> {
        let mut earlier = Vec::new();
        let mut last = 0;
        loop {
            let page: Vec<(i64, i64, Option<String>)> = responses::table
                .filter(responses::survey_id.eq(self.survey.id))
                .filter(responses::respondent.is_not_null())
                .filter(responses::id.gt(last))
                .order(responses::id)
                .select((responses::id, responses::wave_id, responses::respondent))
                .limit(10_000)
                .load(conn)?;
            let Some(end) = page.last().map(|p| p.0) else {
                return Ok(earlier);
            };
            last = end;
            for (response_id, wave_id, respondent) in page {
                let respondent = respondent.unwrap_or_default();
                let Some(wave) = self.wave_ids.iter().position(|&w| w == wave_id) else {
                    continue;
                };
                let found = self.respondents.find_in_wave(wave, &respondent);
                if let Some(n) = found.filter(|&n| !self.respondents.seen[n as usize].bad) {
                    earlier.push((n, response_id));
                }
            }
        }
    }

    /// Takes one row; stores a batch when it is full.
    pub(super) fn row(
        &mut self,
        conn: &mut AnyConnection,
        row: super::good_rows::GoodRow,
        bar: &indicatif::ProgressBar,
    ) -> Result<()> {
        let n = row.number as usize;
        if !self.started[n] {
            self.started[n] = true;
            self.begun += 1;
            if self.response_of[n] == 0 {
                self.response_of[n] = self.ids.take(conn)?;
                self.new_responses.push(row.number);
            }
        }
        if let Some((rank, text, area)) = row.problem {
            let area_id = match area {
                Some(label) => Some(area_id(conn, self.survey.id, label, &mut self.area_ids)?),
                None => None,
            };
            self.texts.push_str(text);
            self.mentions.push(Pending {
                response_id: self.response_of[n],
                rank,
                text_end: self.texts.len(),
                area_id,
            });
        }
        if self.mentions.len() >= BATCH || self.new_responses.len() >= BATCH {
            self.flush(conn, bar)?;
        }
        Ok(())
    }

    /// Stores what is gathered: new responses, then mentions.
    pub(super) fn flush(
        &mut self,
        conn: &mut AnyConnection,
        bar: &indicatif::ProgressBar,
    ) -> Result<()> {
        self.note_coded(conn)?;
        let batch = self.batch();
        match conn {
            AnyConnection::Sqlite(c) => super::sqlite::insert_batch(c, &batch)?,
            AnyConnection::Postgresql(_) => unreachable!("PostgreSQL streams its rows: pg_copy.rs"),
        }
        drop(batch);
        self.report.inserted += self.new_responses.len();
        self.report.mentions += self.mentions.len();
        self.new_responses.clear();
        self.mentions.clear();
        self.texts.clear();
        bar.inc(std::mem::take(&mut self.begun));
        Ok(())
    }

    /// Tells the survey's summary, once, that this import coded mentions (if it did).
    pub(super) fn note_coded(&mut self, conn: &mut AnyConnection) -> Result<()> {
        if !self.noted_coded && !self.area_ids.is_empty() {
            summary::coded(conn, self.survey.id, self.stamp.at)?;
            self.noted_coded = true;
        }
        Ok(())
    }

    /// The respondents without errors who were not imported before, in the order
    /// of the file.
    pub(super) fn new_respondents(&self) -> Vec<u32> {
        let seen = self.respondents.seen.iter().zip(&self.response_of);
        (0..)
            .zip(seen)
            .filter(|(_, (seen, &id))| !seen.bad && id == 0)
            .map(|(n, _)| n)
            .collect()
    }

    /// Gives the respondents `new` their response ids, in order.
    pub(super) fn give_response_ids(&mut self, new: &[u32], ids: Vec<i64>) {
        for (&n, id) in new.iter().zip(ids) {
            self.response_of[n as usize] = id;
        }
    }

    pub(super) fn survey_id(&self) -> i64 {
        self.survey.id
    }

    pub(super) fn locale(&self) -> &str {
        self.survey.survey.default_locale.as_str()
    }

    /// The import's time stamp as PostgreSQL's binary format has it.
    pub(super) fn stamp_micros(&self) -> i64 {
        self.stamp.pg_micros()
    }

    pub(super) fn response_id(&self, n: u32) -> i64 {
        match self.first_response {
            Some(first) => first + i64::from(n),
            None => self.response_of[n as usize],
        }
    }

    /// Respondent `n`'s response row.
    pub(super) fn response(&self, n: u32) -> ResponseRow<'_> {
        let seen = &self.respondents.seen[n as usize];
        ResponseRow {
            id: self.response_id(n),
            wave_id: self.wave_ids[seen.wave as usize],
            attributes: &self.attributes[seen.segment as usize],
            no_problems: i32::from(seen.ranks == 0),
            respondent: self.respondents.id(n),
        }
    }

    /// The id of the area with this label, if this import met it already.
    pub(super) fn known_area(&self, label: &str) -> Option<i64> {
        self.area_ids.get(label).copied()
    }

    /// Finds or creates the areas named in the chunk's rows from `from` on.
    pub(super) fn create_areas(
        &mut self,
        conn: &mut AnyConnection,
        chunk: &super::good_rows::Chunk,
        from: usize,
    ) -> Result<()> {
        for i in from..chunk.len() {
            if let Some((_, _, Some(label))) = chunk.row(i).problem {
                area_id(conn, self.survey.id, label, &mut self.area_ids)?;
            }
        }
        Ok(())
    }

    /// What was stored; lets go of the memory kept per respondent.
    pub(super) fn finish(self) -> ResponsesReport {
        self.report
    }

    /// The gathered rows as the backend stores them, borrowing their texts.
    fn batch(&self) -> Batch<'_> {
        let responses = self
            .new_responses
            .iter()
            .map(|&n| self.response(n))
            .collect();
        let mut start = 0;
        let mentions = self
            .mentions
            .iter()
            .map(|m| {
                let text = &self.texts[start..m.text_end];
                start = m.text_end;
                MentionRow {
                    response_id: m.response_id,
                    rank: m.rank as i32,
                    text,
                    area_id: m.area_id,
                }
            })
            .collect();
        Batch {
            shared: Shared {
                survey_id: self.survey.id,
                locale: self.locale(),
                stamp: self.stamp.text(),
            },
            responses,
            mentions,
        }
    }
}

/// The id of the survey's area with this label (by normalised text), created if new.
fn area_id(
    conn: &mut AnyConnection,
    survey_id: i64,
    label: &str,
    cache: &mut hashbrown::HashMap<String, i64>,
) -> Result<i64> {
    if let Some(id) = cache.get(label) {
        return Ok(*id);
    }
    let key = coding::group_key(label);
    let find = |conn: &mut AnyConnection| {
        areas::table
            .filter(areas::survey_id.eq(survey_id))
            .filter(areas::key.eq(&key))
            .select(areas::id)
            .first::<i64>(conn)
            .optional()
    };
    let id = match find(conn)? {
        Some(id) => id,
        None => {
            diesel::insert_into(areas::table)
                .values((
                    areas::survey_id.eq(survey_id),
                    areas::key.eq(&key),
                    areas::label.eq(label),
                    areas::created_at.eq(now()),
                ))
                .execute(conn)?;
            find(conn)?.ok_or(diesel::result::Error::NotFound)?
        }
    };
    cache.insert(label.to_string(), id);
    Ok(id)
}
