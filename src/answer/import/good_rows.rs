//! Good rows on their way from a reading thread to the thread that stores them:
//! owned, a chunk of rows at a time, the chunks handed back to be filled again
//! (`check.rs`'s second reading, `one_pass.rs`'s one reading).

/// A row of a respondent without errors, as the second reading hands it on.
pub(super) struct GoodRow<'r> {
    pub number: u32,
    /// `(rank renumbered 1..m, text, area)`; `None` for a "no problems" row.
    pub problem: Option<(u32, &'r str, Option<&'r str>)>,
}

/// Rows the second reading hands from its reading thread to the caller's at a time.
pub(super) const CHUNK_ROWS: usize = 4_096;

/// Chunks read ahead of the caller at most.
pub(super) const CHUNKS_AHEAD: usize = 4;

/// Good rows of the second reading, owned, on their way to the caller's thread:
/// each row's problem text and then its area one after the other in `texts`.
#[derive(Default)]
pub(super) struct Chunk {
    texts: String,
    rows: Vec<ChunkRow>,
}

struct ChunkRow {
    number: u32,
    /// The renumbered rank; 0 for a "no problems" row.
    rank: u32,
    text_end: usize,
    area_end: usize,
}

impl Chunk {
    pub(super) fn push(&mut self, number: u32, problem: Option<(u32, &str, &str)>) {
        let (rank, text, area) = problem.unwrap_or_default();
        self.texts.push_str(text);
        let text_end = self.texts.len();
        self.texts.push_str(area);
        self.rows.push(ChunkRow {
            number,
            rank,
            text_end,
            area_end: self.texts.len(),
        });
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Row `i` of the chunk.
    pub(super) fn row(&self, i: usize) -> GoodRow<'_> {
        let start = i
            .checked_sub(1)
            .map_or(0, |before| self.rows[before].area_end);
        let row = &self.rows[i];
        let text = &self.texts[start..row.text_end];
        let area = &self.texts[row.text_end..row.area_end];
        let area = (!area.is_empty()).then_some(area);
        GoodRow {
            number: row.number,
            problem: (row.rank > 0).then_some((row.rank, text, area)),
        }
    }

    /// Calls `f` with each row, until it fails.
    pub(super) fn each<E>(&self, f: &mut impl FnMut(GoodRow) -> Result<(), E>) -> Result<(), E> {
        (0..self.len()).try_for_each(|i| f(self.row(i)))
    }

    fn clear(&mut self) {
        self.texts.clear();
        self.rows.clear();
    }
}

/// The second reading's rows as they arrive from its reading thread, a chunk at a time.
pub(super) struct GoodRows {
    pub(super) arriving: std::sync::mpsc::Receiver<Chunk>,
    pub(super) used: std::sync::mpsc::SyncSender<Chunk>,
}

impl GoodRows {
    /// The next chunk of rows; `None` once the reading has ended (it may have failed:
    /// `check::with_good_rows` says so when it returns).
    pub(super) fn next_chunk(&mut self) -> Option<Chunk> {
        self.arriving.recv().ok()
    }

    /// Hands a chunk whose rows are used back to the reading thread, to be filled
    /// again: no allocation per chunk.
    pub(super) fn give_back(&self, mut chunk: Chunk) {
        chunk.clear();
        let _ = self.used.try_send(chunk);
    }
}
