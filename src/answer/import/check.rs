//! The first reading of a responses file checks every row and keeps only each
//! respondent's shape (wave, segment, ranks given and on which lines), in a few
//! flat vectors and one buffer of respondent ids, so that memory grows by about
//! 80 bytes a respondent and not with the texts. The second reading hands on the
//! rows of the respondents without errors. Neither touches the database.

use std::hash::BuildHasher;
use std::io::Read;

use super::good_rows::{Chunk, GoodRow, GoodRows, CHUNKS_AHEAD, CHUNK_ROWS};
use super::read::{read_ahead, Fields, Row, Rows};
use crate::coding;
use crate::invite::ImportError;
use crate::survey::WaveLabel;

/// One respondent as the first reading leaves it: no texts, only what the checks of
/// later rows need.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Seen {
    pub wave: u32,
    first_line: u32,
    /// 0: no "no problems" row.
    no_problems_line: u32,
    /// 0: no segment; else the segment's index + 1.
    pub segment: u32,
    /// Bit `r` set: rank `r` is given (ranks are at most `MAX_PROBLEMS_LIMIT`).
    pub ranks: u16,
    pub bad: bool,
}

/// Every respondent of a file, numbered in order of their first row.
#[derive(Default)]
pub(super) struct Respondents {
    max_problems: u32,
    pub waves: Vec<WaveLabel>,
    /// Each wave as written in the file.
    wave_texts: Vec<String>,
    /// Every respondent id, one after the other: respondent `n`'s ends at `ends[n]`.
    ids: String,
    ends: Vec<usize>,
    /// Respondent numbers by (wave, id).
    numbers: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    /// The respondent of the row before: their next row needs no look-up.
    last: Option<u32>,
    pub seen: Vec<Seen>,
    /// `max_problems` lines per respondent: the line of each rank given (0: none).
    rank_lines: Vec<u32>,
    pub segments: Vec<String>,
    segment_of: hashbrown::HashMap<String, u32>,
    /// Area labels already found to have letters or digits.
    areas_seen: hashbrown::HashSet<String>,
}

/// What the first reading found.
pub(super) struct Checked {
    pub respondents: Respondents,
    pub errors: Vec<String>,
    /// Respondents with a bad row.
    pub bad: usize,
}

/// The first reading: checks every row; keeps each respondent's shape.
/// `file_bytes` (the file's size, if known) lets the reading size its memory
/// for all respondents once it has seen the first rows, instead of growing it by
/// doubling (which, at a million respondents, held about twice the memory at the peak).
pub(super) fn check(
    reader: impl Read + Send,
    file: &str,
    max_problems: u32,
    file_bytes: Option<u64>,
) -> Result<Checked, ImportError> {
    let mut checker = Checker::new(max_problems, file_bytes);
    let mut errors: Vec<String> = Vec::new();
    read_ahead(reader, file, |row| {
        match row {
            Row::Fields { line, fields, byte } => {
                if let Err(reason) = checker.row(line, &fields, byte) {
                    errors.push(format!("line {line}: {reason}"));
                }
            }
            Row::Error(e) => errors.push(format!("line {}: {}", e.line, e.message)),
        }
        true
    })?;
    let respondents = checker.respondents;
    let bad = respondents.seen.iter().filter(|s| s.bad).count();
    Ok(Checked {
        respondents,
        errors,
        bad,
    })
}

/// Checks rows one at a time, as the first reading does (and `one_pass.rs`).
pub(super) struct Checker {
    pub respondents: Respondents,
    file_bytes: Option<u64>,
    read: usize,
    /// How many respondents the file holds, estimated once the first rows are read.
    pub expected: Option<usize>,
}

impl Checker {
    pub(super) fn new(max_problems: u32, file_bytes: Option<u64>) -> Checker {
        Checker {
            respondents: Respondents {
                max_problems,
                ..Respondents::default()
            },
            file_bytes,
            read: 0,
            expected: None,
        }
    }

    /// Checks the row on `line` (which ends at `byte` of the file) and adds it to
    /// its respondent, whose number it returns; or says what is wrong with it.
    pub(super) fn row(&mut self, line: u32, fields: &Fields, byte: u64) -> Result<u32, String> {
        self.read += 1;
        if let Some(bytes) = self.file_bytes.filter(|_| self.read == ESTIMATE_AFTER_ROWS) {
            self.expected = Some(self.respondents.reserve_for(bytes, byte));
        }
        self.respondents.add_row(line, fields)
    }
}

/// Rows read before the number of respondents in the file is estimated.
const ESTIMATE_AFTER_ROWS: usize = 10_000;

/// The second reading: hands on every row of the respondents without errors, with
/// ranks renumbered 1..m in the order of the ranks given. The file is read and
/// its rows found on a thread of their own, so that the caller (storing rows)
/// does not wait for the reading.
pub(super) fn for_each_good_row<E: From<ImportError>>(
    reader: impl Read + Send,
    file: &str,
    respondents: &Respondents,
    mut f: impl FnMut(GoodRow) -> Result<(), E>,
) -> Result<(), E> {
    with_good_rows(reader, file, respondents, |rows| {
        while let Some(chunk) = rows.next_chunk() {
            chunk.each(&mut f)?;
            rows.give_back(chunk);
        }
        Ok(())
    })
}

/// The second reading, as [`for_each_good_row`], with the caller taking the rows
/// chunk by chunk from [`GoodRows`] (so that it may stop between rows and go on later).
/// A failed reading is reported once `consume` has returned.
pub(super) fn with_good_rows<T, E: From<ImportError>>(
    reader: impl Read + Send,
    file: &str,
    respondents: &Respondents,
    consume: impl FnOnce(&mut GoodRows) -> Result<T, E>,
) -> Result<T, E> {
    use std::sync::mpsc::sync_channel;
    let (chunks, arriving) = sync_channel::<Chunk>(CHUNKS_AHEAD);
    // Chunks go back to the reading thread to be filled again.
    let (used, reusable) = sync_channel::<Chunk>(CHUNKS_AHEAD + 2);
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || {
            let mut chunk = Chunk::default();
            good_rows(reader, file, respondents, |number, problem| {
                chunk.push(number, problem);
                if chunk.len() < CHUNK_ROWS {
                    return true;
                }
                let next = reusable.try_recv().unwrap_or_default();
                // The caller stopped (an error of theirs): stop reading too.
                chunks.send(std::mem::replace(&mut chunk, next)).is_ok()
            })?;
            // A caller that stopped early has its own error to report.
            let _ = chunks.send(chunk);
            Ok::<_, ImportError>(())
        });
        let mut rows = GoodRows { arriving, used };
        let consumed = consume(&mut rows);
        drop(rows);
        let read = reading.join().expect("the reading thread does not panic");
        let consumed = consumed?;
        read.map_err(E::from)?;
        Ok(consumed)
    })
}

/// Reads the file again and calls `f` with each good row's respondent and
/// `(renumbered rank, text, area)` (`None`: "no problems"), until `f` says stop.
fn good_rows(
    reader: impl Read,
    file: &str,
    respondents: &Respondents,
    mut f: impl FnMut(u32, Option<(u32, &str, &str)>) -> bool,
) -> Result<(), ImportError> {
    let mut rows = Rows::open(reader, file)?;
    let mut cursor = Cursor::default();
    loop {
        match rows.next() {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            // Reported by the first reading; such a row belongs to no respondent.
            Err(e) if !e.fatal => continue,
            Err(e) => {
                return Err(ImportError::header(
                    file,
                    format!("reading it again: {}", e.message),
                ))
            }
        }
        let Ok(fields) = rows.fields() else {
            continue;
        };
        let Some(number) = cursor.find(respondents, fields.wave, fields.respondent) else {
            continue;
        };
        let seen = respondents.seen[number as usize];
        if seen.bad {
            continue;
        }
        let problem = fields.rank.parse::<u32>().ok().map(|rank| {
            let renumbered = (seen.ranks & ((1u16 << rank) - 1)).count_ones() + 1;
            (renumbered, fields.problem, fields.area)
        });
        if !f(number, problem) {
            return Ok(());
        }
    }
}

/// Where the second reading is among the respondents: they come in the order
/// the first reading numbered them, so a row's respondent is mostly the one of
/// the row before or the next new one, and needs no look-up.
#[derive(Default)]
struct Cursor {
    last: Option<u32>,
    /// The first respondent not met yet.
    next_new: u32,
}

impl Cursor {
    fn find(&mut self, respondents: &Respondents, wave: &str, respondent: &str) -> Option<u32> {
        let is = |n: u32| {
            let seen = &respondents.seen[n as usize];
            respondents.id(n) == respondent && respondents.wave_texts[seen.wave as usize] == wave
        };
        let found = match self.last {
            Some(n) if is(n) => Some(n),
            _ if (self.next_new as usize) < respondents.seen.len() && is(self.next_new) => {
                Some(self.next_new)
            }
            _ => {
                let w = respondents.wave_texts.iter().position(|t| t == wave)? as u32;
                respondents.find_in(w, respondent)
            }
        };
        if let Some(n) = found {
            self.last = Some(n);
            self.next_new = self.next_new.max(n + 1);
        }
        found
    }
}

/// Respondent `n`'s id in the buffer of all ids.
fn id_in<'a>(ids: &'a str, ends: &[usize], n: u32) -> &'a str {
    let n = n as usize;
    &ids[if n == 0 { 0 } else { ends[n - 1] }..ends[n]]
}

/// How `Respondents::numbers` hashes respondent `m` (needed when the table grows).
fn hash_of<'a>(
    hasher: &'a hashbrown::DefaultHashBuilder,
    ids: &'a str,
    ends: &'a [usize],
    seen: &'a [Seen],
) -> impl Fn(&u32) -> u64 + 'a {
    move |&m| hasher.hash_one((seen[m as usize].wave, id_in(ids, ends, m)))
}

impl Respondents {
    /// Respondent `n`'s id as written in the file.
    pub fn id(&self, n: u32) -> &str {
        id_in(&self.ids, &self.ends, n)
    }

    pub fn segment(&self, seen: &Seen) -> Option<&str> {
        (seen.segment > 0).then(|| self.segments[seen.segment as usize - 1].as_str())
    }

    /// Makes room for the respondents of a file of `file_bytes` bytes, estimated
    /// from those of its first `read_bytes` (5% more, for files whose rows differ
    /// in length). Room not used costs address space only.
    /// Returns the estimate.
    fn reserve_for(&mut self, file_bytes: u64, read_bytes: u64) -> usize {
        let n = self.seen.len();
        if n == 0 || read_bytes == 0 {
            return n;
        }
        let expected = (n as f64 * file_bytes as f64 / read_bytes as f64 * 1.05) as usize;
        let more = expected.min(u32::MAX as usize).saturating_sub(n);
        self.seen.reserve_exact(more);
        self.ends.reserve_exact(more);
        self.rank_lines
            .reserve_exact(more * self.max_problems as usize);
        self.ids.reserve_exact(more * self.ids.len().div_ceil(n));
        let rehash = hash_of(&self.hasher, &self.ids, &self.ends, &self.seen);
        self.numbers.reserve(more, rehash);
        expected
    }

    fn find_in(&self, wave: u32, respondent: &str) -> Option<u32> {
        let hash = self.hasher.hash_one((wave, respondent));
        self.numbers
            .find(hash, |&n| {
                self.seen[n as usize].wave == wave && self.id(n) == respondent
            })
            .copied()
    }

    /// The number of the respondent with this id in the wave `waves[wave]`, if any.
    pub fn find_in_wave(&self, wave: usize, respondent: &str) -> Option<u32> {
        self.find_in(wave as u32, respondent)
    }

    fn wave_number(&mut self, text: &str) -> Result<u32, String> {
        if let Some(w) = self.wave_texts.iter().position(|t| t == text) {
            return Ok(w as u32);
        }
        let label: WaveLabel = text.parse().map_err(|e| format!("{e}"))?;
        self.waves.push(label);
        self.wave_texts.push(text.to_string());
        Ok(self.waves.len() as u32 - 1)
    }

    /// The respondent's number, a new one at their first row.
    fn number(&mut self, wave: u32, respondent: &str, line: u32) -> u32 {
        if let Some(n) = self
            .last
            .filter(|&n| self.seen[n as usize].wave == wave && self.id(n) == respondent)
        {
            return n;
        }
        if let Some(n) = self.find_in(wave, respondent) {
            self.last = Some(n);
            return n;
        }
        let n = self.seen.len() as u32;
        self.ids.push_str(respondent);
        self.ends.push(self.ids.len());
        self.seen.push(Seen {
            wave,
            first_line: line,
            ..Seen::default()
        });
        let hash = self.hasher.hash_one((wave, respondent));
        let rehash = hash_of(&self.hasher, &self.ids, &self.ends, &self.seen);
        self.numbers.insert_unique(hash, n, rehash);
        self.rank_lines
            .extend(std::iter::repeat_n(0, self.max_problems as usize));
        self.last = Some(n);
        n
    }

    /// Checks one row and adds it to its respondent, whose number it returns, or
    /// says what is wrong with it (and marks the respondent bad, if the row names one).
    fn add_row(&mut self, line: u32, fields: &Fields) -> Result<u32, String> {
        super::check_field("respondent", fields.respondent, true)?;
        let wave = self.wave_number(fields.wave)?;
        let number = self.number(wave, fields.respondent, line);
        self.check_row(number, line, fields)
            .inspect_err(|_| {
                self.seen[number as usize].bad = true;
            })
            .map(|()| number)
    }

    /// Whether `line` is respondent `n`'s first row.
    pub fn begins_on(&self, n: u32, line: u32) -> bool {
        self.seen[n as usize].first_line == line
    }

    fn rank_line(&self, number: u32, rank: u32) -> u32 {
        self.rank_lines[number as usize * self.max_problems as usize + rank as usize - 1]
    }

    fn who(&self, number: u32) -> String {
        let wave = self.seen[number as usize].wave as usize;
        format!(
            "respondent {:?} (wave {})",
            self.id(number),
            self.waves[wave]
        )
    }

    fn segment_number(&mut self, segment: &str) -> Result<u32, String> {
        super::check_field("segment", segment, false)?;
        if segment.is_empty() {
            return Ok(0);
        }
        if let Some(&index) = self.segment_of.get(segment) {
            return Ok(index + 1);
        }
        let index = self.segments.len() as u32;
        self.segment_of.insert(segment.to_string(), index);
        self.segments.push(segment.to_string());
        Ok(index + 1)
    }

    /// Adds one row to respondent `number`, or says what is wrong with it.
    fn check_row(&mut self, number: u32, line: u32, row: &Fields) -> Result<(), String> {
        let segment = self.segment_number(row.segment)?;
        let seen = self.seen[number as usize];
        if line == seen.first_line {
            self.seen[number as usize].segment = segment;
        } else if segment != seen.segment {
            return Err(format!(
                "{} is in segment {:?} here but {:?} on line {}",
                self.who(number),
                row.segment,
                self.segment(&seen).unwrap_or_default(),
                seen.first_line
            ));
        }
        super::check_field("area", row.area, false)?;
        if row.rank.is_empty() && row.problem.is_empty() {
            return self.no_problems_row(number, line, row.area);
        }
        if row.problem.is_empty() {
            return Err(format!(
                "rank {:?} has no problem text (leave both empty for a respondent with no problems)",
                row.rank
            ));
        }
        if row.rank.is_empty() {
            return Err("the problem has no rank (1 = most important)".into());
        }
        self.problem_row(number, line, row)
    }

    fn no_problems_row(&mut self, number: u32, line: u32, area: &str) -> Result<(), String> {
        let seen = self.seen[number as usize];
        if !area.is_empty() {
            return Err(format!(
                "area {area:?} is given without a problem (a row with empty rank and problem means \"no problems\")"
            ));
        }
        if seen.no_problems_line > 0 {
            return Err(format!(
                "{} already has a \"no problems\" row on line {}",
                self.who(number),
                seen.no_problems_line
            ));
        }
        if seen.ranks != 0 {
            let first = (1..=self.max_problems)
                .map(|r| self.rank_line(number, r))
                .filter(|&l| l > 0)
                .min()
                .unwrap_or_default();
            return Err(format!(
                "{} has problems (line {first}) and also this \"no problems\" row (empty rank and problem)",
                self.who(number)
            ));
        }
        self.seen[number as usize].no_problems_line = line;
        Ok(())
    }

    fn problem_row(&mut self, number: u32, line: u32, row: &Fields) -> Result<(), String> {
        let max_problems = self.max_problems;
        let seen = self.seen[number as usize];
        let rank = super::ranked_problem(row.rank, row.problem, max_problems, "")?;
        if !row.area.is_empty() && !self.areas_seen.contains(row.area) {
            if coding::group_key(row.area).is_empty() {
                return Err(format!("area {:?} has no letters or digits", row.area));
            }
            self.areas_seen.insert(row.area.to_string());
        }
        if seen.no_problems_line > 0 {
            return Err(format!(
                "{} has a \"no problems\" row on line {} and also this problem",
                self.who(number),
                seen.no_problems_line
            ));
        }
        if seen.ranks & (1 << rank) != 0 {
            return Err(format!(
                "{} already has rank {rank} on line {}",
                self.who(number),
                self.rank_line(number, rank)
            ));
        }
        if seen.ranks.count_ones() >= max_problems {
            return Err(format!(
                "{} lists more than {max_problems} problems, the most this survey asks for",
                self.who(number)
            ));
        }
        self.seen[number as usize].ranks |= 1 << rank;
        let at = number as usize * max_problems as usize + rank as usize - 1;
        self.rank_lines[at] = line;
        Ok(())
    }
}
