//! One reading of a responses file instead of two, where that is likely to work:
//! every row is checked as the first reading checks it (`check.rs`'s `Checker`)
//! and the rows of each respondent are handed on, ranks renumbered, as soon as
//! the next row belongs to someone else. That needs a file whose rows are good
//! and whose respondents' rows are together (as survey tools write them); at the
//! first bad row, or a respondent met again further down, the reading gives up
//! and says where, and the caller rolls back what it stored and reads the file
//! twice as before (which names every bad row, or stores respondents whose rows
//! are apart). Touches no database.

use std::io::Read;

use super::check::{Checker, Respondents};
use super::good_rows::{Chunk, GoodRows, CHUNKS_AHEAD, CHUNK_ROWS};
use super::read::{read_ahead, Row};
use crate::invite::ImportError;

/// Where and why one reading gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GaveUp {
    pub line: u32,
    pub reason: String,
}

/// The rows of the respondent being read, held until their last row is read, so
/// that their ranks can be renumbered 1..m.
#[derive(Default)]
struct Held {
    number: Option<u32>,
    texts: String,
    /// (rank as given, 0 for "no problems"; end of its text in `texts`; end of its area).
    rows: Vec<(u32, usize, usize)>,
}

impl Held {
    fn push(&mut self, rank: &str, text: &str, area: &str) {
        self.texts.push_str(text);
        let text_end = self.texts.len();
        self.texts.push_str(area);
        // A checked row's rank is a whole number, or empty for "no problems".
        self.rows
            .push((rank.parse().unwrap_or(0), text_end, self.texts.len()));
    }

    /// Moves the held rows into `chunk`, ranks renumbered by the respondent's ranks.
    fn hand_on(&mut self, respondents: &Respondents, chunk: &mut Chunk) {
        let Some(number) = self.number else {
            return;
        };
        let ranks = respondents.seen[number as usize].ranks;
        let mut start = 0;
        for &(rank, text_end, area_end) in &self.rows {
            let text = &self.texts[start..text_end];
            let area = &self.texts[text_end..area_end];
            start = area_end;
            let problem = (rank > 0).then(|| {
                let renumbered = (ranks & ((1u16 << rank) - 1)).count_ones() + 1;
                (renumbered, text, area)
            });
            chunk.push(number, problem);
        }
        self.texts.clear();
        self.rows.clear();
    }
}

/// Reads the file once, checking every row; `consume` takes the good rows chunk
/// by chunk as they come (see [`GoodRows`]). Returns what `consume` returned and
/// every respondent, or where the reading gave up (then `consume` saw only the
/// rows before). `bar` learns the estimated number of respondents early on.
pub(super) fn with_checked_rows<T, E: From<ImportError>>(
    reader: impl Read + Send,
    file: &str,
    max_problems: u32,
    file_bytes: Option<u64>,
    bar: &indicatif::ProgressBar,
    consume: impl FnOnce(&mut GoodRows) -> Result<T, E>,
) -> Result<(T, Result<Respondents, GaveUp>), E> {
    use std::sync::mpsc::sync_channel;
    let (chunks, arriving) = sync_channel::<Chunk>(CHUNKS_AHEAD);
    let (used, reusable) = sync_channel::<Chunk>(CHUNKS_AHEAD + 2);
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || {
            let mut checker = Checker::new(max_problems, file_bytes);
            let mut held = Held::default();
            let mut chunk = Chunk::default();
            let mut gave_up = None;
            let mut sized = false;
            read_ahead(reader, file, |row| {
                let (line, fields, byte) = match row {
                    Row::Fields { line, fields, byte } => (line, fields, byte),
                    Row::Error(e) => {
                        gave_up = Some(GaveUp {
                            line: e.line,
                            reason: e.message.clone(),
                        });
                        return false;
                    }
                };
                let number = match checker.row(line, &fields, byte) {
                    Ok(number) => number,
                    Err(reason) => {
                        gave_up = Some(GaveUp { line, reason });
                        return false;
                    }
                };
                if !sized {
                    if let Some(expected) = checker.expected {
                        bar.set_length(expected as u64);
                        sized = true;
                    }
                }
                if held.number != Some(number) {
                    if !checker.respondents.begins_on(number, line) {
                        gave_up = Some(GaveUp {
                            line,
                            reason: "this respondent's rows are not together".into(),
                        });
                        return false;
                    }
                    held.hand_on(&checker.respondents, &mut chunk);
                    held.number = Some(number);
                    if chunk.len() >= CHUNK_ROWS {
                        let next = reusable.try_recv().unwrap_or_default();
                        // The caller stopped (an error of theirs): stop reading too.
                        if chunks.send(std::mem::replace(&mut chunk, next)).is_err() {
                            return false;
                        }
                    }
                }
                held.push(fields.rank, fields.problem, fields.area);
                true
            })?;
            if gave_up.is_none() {
                held.hand_on(&checker.respondents, &mut chunk);
                // A caller that stopped early has its own error to report.
                let _ = chunks.send(chunk);
            }
            bar.set_length(checker.respondents.seen.len() as u64);
            Ok::<_, ImportError>(match gave_up {
                None => Ok(checker.respondents),
                Some(gave_up) => Err(gave_up),
            })
        });
        let mut rows = GoodRows { arriving, used };
        let consumed = consume(&mut rows);
        drop(rows);
        let read = reading.join().expect("the reading thread does not panic");
        let consumed = consumed?;
        Ok((consumed, read.map_err(E::from)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every good row as (respondent, renumbered rank, text, area), or where the reading gave up.
    fn read(csv: &str) -> Result<Vec<(u32, u32, String, String)>, GaveUp> {
        let bar = indicatif::ProgressBar::hidden();
        let (rows, respondents) = with_checked_rows::<_, ImportError>(
            std::io::Cursor::new(csv.to_string()),
            "r.csv",
            5,
            Some(csv.len() as u64),
            &bar,
            |rows| {
                let mut all = Vec::new();
                while let Some(chunk) = rows.next_chunk() {
                    for i in 0..chunk.len() {
                        let row = chunk.row(i);
                        let (rank, text, area) = row.problem.unwrap_or((0, "", None));
                        all.push((row.number, rank, text.into(), area.unwrap_or("").into()));
                    }
                    rows.give_back(chunk);
                }
                Ok(all)
            },
        )
        .unwrap();
        respondents.map(|_| rows)
    }

    #[test]
    fn rows_of_each_respondent_come_with_ranks_renumbered() {
        let rows = read(
            "respondent,wave,segment,rank,problem,area\n\
             r1,2026-H1,a,3,Invoice wrong,Billing\n\
             r1,2026-H1,a,1,Late,\n\
             r2,2026-H1,b,,,\n\
             r1,2026-H2,a,2,Late again,Delivery\n",
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                (0, 2, "Invoice wrong".into(), "Billing".into()),
                (0, 1, "Late".into(), "".into()),
                (1, 0, "".into(), "".into()),
                (2, 1, "Late again".into(), "Delivery".into()),
            ]
        );
    }

    #[test]
    fn a_bad_row_or_a_respondent_met_again_gives_up_where_it_is() {
        let bad = read(
            "respondent,wave,segment,rank,problem\n\
             r1,2026-H1,a,1,Late\n\
             r2,2026-H1,a,9,Too low a rank\n",
        )
        .unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.reason.contains("1 to 5"), "{bad:?}");
        let apart = read(
            "respondent,wave,segment,rank,problem\n\
             r1,2026-H1,a,1,Late\n\
             r2,2026-H1,a,1,Rude\n\
             r1,2026-H1,a,2,Wrong invoice\n",
        )
        .unwrap_err();
        assert_eq!(apart.line, 4);
        assert!(apart.reason.contains("not together"), "{apart:?}");
    }
}
