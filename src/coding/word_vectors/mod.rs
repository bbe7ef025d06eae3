//! Word vectors for automatic grouping: a static table from a Snowball stem,
//! per language, to a short unit vector, so that texts sharing no word but
//! saying the same thing ("kortet är spärrat", "my card is blocked") can be
//! near each other.
//!
//! pds ships one table, `data/word-vectors/wordllama-adapted-64.pdswv` (built
//! into the binary): WordLlama's trained static token vectors (Llama 2
//! vocabulary; the PyPI package `wordllama`, MIT) mapped to 64 dimensions and
//! adapted so that a text's sum of them points where a sentence model's
//! (all-MiniLM-L6-v2) vector of the text does, by
//! `scripts/make-word-vectors-wordllama.py --adapt`, and read token by token
//! (format version 3). `scripts/make-word-vectors-minilm.py` makes the earlier table
//! (all-MiniLM-L6-v2 distilled word by word, version 2), which is read word
//! by word.
//! Grouping mixes it into the similarities of a study only where it helped on
//! the labelled dev files: short texts, enough of them English (see
//! [`Profile::suits_word_vectors`]; README, "Coding", has the figures). A
//! program may install another table, or none ([`WordVectors::install`];
//! `coding_eval --word-vectors FILE|none` does, to measure one).

use std::sync::OnceLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::features::FnvMap;
use super::glossary;
use super::text::Analysed;
use crate::survey::Locale;

const MAGIC: &[u8; 8] = b"PDSWV1\0\0";
/// Version 2: after the int8 rows, one little-endian f32 per row, the row's
/// length (rows of version 1 have unit length).
const MAGIC_V2: &[u8; 8] = b"PDSWV2\0\0";
/// Version 3: as version 2, for a table of a *trained* static model's tokens
/// (`scripts/make-word-vectors-wordllama.py`): a text's vector is the sum of
/// the rows of all its words' pieces, stop words too, each piece once and
/// unweighted, as the model was trained to be read.
const MAGIC_V3: &[u8; 8] = b"PDSWV3\0\0";

mod mix;
pub use mix::{mix, Profile, GATE_MAX_WORDS, GATE_MIN_ENGLISH};

/// The table grouping uses: the one a program installed, else the shipped one
/// (read on first use).
static TABLE: OnceLock<Option<WordVectors>> = OnceLock::new();

/// The shipped table (2.6 MB: 25,114 pieces of the Llama 2 vocabulary and
/// 8,573 English stems for the glossary's Swedish words, 64 dimensions;
/// `data/word-vectors/README.md`).
/// Left out of a build without the `word-vectors` feature.
#[cfg(feature = "word-vectors")]
static SHIPPED: &[u8] = include_bytes!("../../../data/word-vectors/wordllama-adapted-64.pdswv");

/// A stem-to-vector table for Swedish and English.
#[derive(Debug, Clone)]
pub struct WordVectors {
    dims: usize,
    swedish: FnvMap<Box<str>, u32>,
    english: FnvMap<Box<str>, u32>,
    /// WordPiece pieces ("card", "##ed") for words whose stem is not in the
    /// table: a word's vector is then the mean of its pieces' vectors.
    pieces: FnvMap<Box<str>, u32>,
    /// Rows of `dims` values each as stored (int8), and what each row's
    /// values are multiplied by (to unit length in a version 1 table): a
    /// quarter of the memory of f32 rows.
    values: Vec<i8>,
    scales: Vec<f32>,
    /// Read token by token (version 3), not word by word.
    per_token: bool,
}

/// Why a table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("word-vector table: {0}")]
pub struct TableError(String);

impl WordVectors {
    /// Reads a table in the format `scripts/make-word-vectors-minilm.py` writes.
    pub fn parse(bytes: &[u8]) -> Result<WordVectors, TableError> {
        let mut at = Reader { bytes, at: 0 };
        let magic = at.take(8)?;
        if magic != MAGIC && magic != MAGIC_V2 && magic != MAGIC_V3 {
            return Err(TableError("not a pds word-vector table".into()));
        }
        let per_token = magic == MAGIC_V3;
        let scaled = magic == MAGIC_V2 || per_token;
        let dims = at.u32()? as usize;
        let count = at.u32()? as usize;
        if dims == 0 || dims > 1024 {
            return Err(TableError(format!("{dims} dimensions")));
        }
        let mut swedish = FnvMap::default();
        let mut english = FnvMap::default();
        let mut pieces = FnvMap::default();
        for row in 0..count {
            let language = at.take(1)?[0];
            let len = at.take(1)?[0] as usize;
            let stem = std::str::from_utf8(at.take(len)?)
                .map_err(|_| TableError(format!("entry {row} is not UTF-8")))?;
            let map = match language {
                0 => &mut swedish,
                1 => &mut english,
                2 => &mut pieces,
                other => return Err(TableError(format!("entry {row}: language {other}"))),
            };
            map.insert(stem.into(), row as u32);
        }
        let raw = at.take(count * dims)?;
        let lengths: Vec<f32> = if scaled {
            at.take(count * 4)?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        } else {
            vec![1.0; count]
        };
        if at.at != bytes.len() {
            return Err(TableError("bytes after the last vector".into()));
        }
        let values: Vec<i8> = raw.iter().map(|&v| v as i8).collect();
        let scales = values
            .chunks_exact(dims)
            .zip(lengths)
            .map(|(row, length)| {
                let norm = row
                    .iter()
                    .map(|&v| f32::from(v).powi(2))
                    .sum::<f32>()
                    .sqrt()
                    .max(1.0);
                length / norm
            })
            .collect();
        Ok(WordVectors {
            dims,
            swedish,
            english,
            pieces,
            values,
            scales,
            per_token,
        })
    }

    /// The table automatic grouping uses: the one a program installed, else
    /// the shipped one (read on the first call; none in a build without the
    /// `word-vectors` feature).
    pub fn installed() -> Option<&'static WordVectors> {
        TABLE.get_or_init(WordVectors::shipped).as_ref()
    }

    /// The table shipped with pds.
    #[cfg(feature = "word-vectors")]
    pub fn shipped() -> Option<WordVectors> {
        Some(WordVectors::parse(SHIPPED).expect("the shipped word-vector table is valid"))
    }

    /// None: this build was made without the `word-vectors` feature.
    #[cfg(not(feature = "word-vectors"))]
    pub fn shipped() -> Option<WordVectors> {
        None
    }

    /// Makes `table` the one automatic grouping uses in this process (`None`:
    /// none). Only once, before the first grouping: false if a table (or
    /// none) was already chosen.
    pub fn install(table: Option<WordVectors>) -> bool {
        TABLE.set(table).is_ok()
    }

    /// Length of every vector.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Stems in the table.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The vector of a Snowball stem of a word in `locale` (of unit length
    /// in a version 1 table).
    pub fn get(&self, stem: &str, locale: Locale) -> Option<Vec<f32>> {
        let row = self.stem_row(stem, locale)?;
        let mut v = vec![0.0; self.dims];
        self.add_row(&mut v, row, 1.0);
        Some(v)
    }

    fn stem_row(&self, stem: &str, locale: Locale) -> Option<u32> {
        let map = match locale {
            Locale::Sv => &self.swedish,
            Locale::En => &self.english,
        };
        map.get(stem).copied()
    }

    /// Adds `weight` times row `row` to `sum` (its first `sum.len()` values).
    fn add_row(&self, sum: &mut [f32], row: u32, weight: f32) {
        let row = row as usize;
        let w = weight * self.scales[row];
        let values = &self.values[row * self.dims..(row + 1) * self.dims];
        sum.iter_mut()
            .zip(values)
            .for_each(|(s, &x)| *s += w * f32::from(x));
    }

    /// Adds to `sum` `weight` times the vector of a content word: its stem's
    /// row; for a Swedish stem the table lacks, the mean of its glossary
    /// English stems' rows; else the mean of its WordPiece pieces' rows
    /// (greedy longest match, accents stripped). False if none is known.
    fn add_word(
        &self,
        sum: &mut [f32],
        word: &str,
        stem: &str,
        locale: Locale,
        weight: f32,
    ) -> bool {
        if let Some(row) = self.stem_row(stem, locale) {
            self.add_row(sum, row, weight);
            return true;
        }
        if locale == Locale::Sv {
            let rows: Vec<u32> = glossary::english_of(stem, true)
                .iter()
                .filter_map(|e| self.english.get(*e).copied())
                .collect();
            if !rows.is_empty() {
                self.add_mean(sum, &rows, weight);
            }
            // Swedish words are not split into English WordPiece pieces.
            return !rows.is_empty();
        }
        let rows = self.word_pieces(word);
        if rows.is_empty() {
            return false;
        }
        self.add_mean(sum, &rows, weight);
        true
    }

    /// Adds to `sum` each of a word's pieces' rows once (a version 3 table):
    /// for a Swedish word the glossary knows, the mean of its English stems'
    /// rows instead. False if none is known.
    fn add_pieces(&self, sum: &mut [f32], word: &str, stem: &str, locale: Locale) -> bool {
        if locale == Locale::Sv {
            let rows: Vec<u32> = glossary::english_of(stem, true)
                .iter()
                .filter_map(|e| self.english.get(*e).copied())
                .collect();
            if !rows.is_empty() {
                self.add_mean(sum, &rows, 1.0);
                return true;
            }
        }
        let rows = self.word_pieces(word);
        for &r in &rows {
            self.add_row(sum, r, 1.0);
        }
        !rows.is_empty()
    }

    fn add_mean(&self, sum: &mut [f32], rows: &[u32], weight: f32) {
        let w = weight / rows.len() as f32;
        for &r in rows {
            self.add_row(sum, r, w);
        }
    }

    /// The rows of a word's WordPiece pieces, or none when some part of it
    /// has no piece.
    fn word_pieces(&self, word: &str) -> Vec<u32> {
        if self.pieces.is_empty() {
            return Vec::new();
        }
        let chars: Vec<char> = word.nfd().filter(|c| !is_combining_mark(*c)).collect();
        let mut rows = Vec::new();
        let mut start = 0;
        let mut key = String::new();
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while end > start {
                key.clear();
                if start > 0 {
                    key.push_str("##");
                }
                key.extend(&chars[start..end]);
                if let Some(&row) = self.pieces.get(key.as_str()) {
                    found = Some(row);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(row) => rows.push(row),
                None => return Vec::new(),
            }
            start = end;
        }
        rows
    }

    /// A text's vector (its first `dims` dimensions, at most the table's):
    /// the sum of its content words' vectors, each weighted by `weight(stem)`
    /// (its IDF), or `None` when the table knows none of them.
    pub fn text_vector(
        &self,
        doc: &Analysed,
        dims: usize,
        weight: impl Fn(&str) -> f32,
    ) -> Option<Vec<f32>> {
        let mut sum = vec![0.0f32; dims.min(self.dims)];
        let mut found = false;
        if self.per_token {
            for token in &doc.tokens {
                found |= self.add_pieces(&mut sum, &token.word, &token.stem, doc.locale);
            }
            return found.then_some(sum);
        }
        for token in doc.content() {
            let w = weight(&token.stem);
            found |= self.add_word(&mut sum, &token.word, &token.stem, doc.locale, w);
        }
        found.then_some(sum)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TableError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| TableError(format!("cut short at byte {}", self.at)))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, TableError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::coding::text::Analyzer;

    /// A table in the format of `scripts/make-word-vectors-minilm.py` (version 1): (language
    /// 0 Swedish or 1 English, stem, vector).
    pub(crate) fn table(entries: &[(u8, &str, [i8; 3])]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(3u32.to_le_bytes());
        bytes.extend((entries.len() as u32).to_le_bytes());
        for (language, stem, _) in entries {
            bytes.push(*language);
            bytes.push(stem.len() as u8);
            bytes.extend(stem.as_bytes());
        }
        for (_, _, v) in entries {
            bytes.extend(v.iter().map(|&x| x as u8));
        }
        bytes
    }

    /// A table of version 2 (`tokens` false) or 3, every row of length 1.
    fn table_with_lengths(entries: &[(u8, &str, [i8; 3])], tokens: bool) -> Vec<u8> {
        let mut bytes = table(entries);
        bytes[..8].copy_from_slice(if tokens { MAGIC_V3 } else { MAGIC_V2 });
        for _ in entries {
            bytes.extend(1.0f32.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn a_token_table_counts_every_piece_of_every_word_once() {
        let entries = [
            (2, "my", [127, 0, 0]),
            (2, "card", [0, 127, 0]),
            (2, "##s", [0, 0, 127]),
        ];
        let analyzer = Analyzer::new();
        let doc = analyzer.analyse("my cards", Some(Locale::En));
        let by_token = WordVectors::parse(&table_with_lengths(&entries, true)).expect("v3");
        let v = by_token
            .text_vector(&doc, 3, |_| 5.0)
            .expect("known pieces");
        // The stop word counts, each piece of "cards" counts once, no IDF.
        assert!(v.iter().all(|x| (x - 1.0).abs() < 1e-5), "{v:?}");
        // Read word by word (version 2): content words only, a word the mean
        // of its pieces, weighted.
        let by_word = WordVectors::parse(&table_with_lengths(&entries, false)).expect("v2");
        let v = by_word.text_vector(&doc, 3, |_| 2.0).expect("known pieces");
        assert!(
            v[0].abs() < 1e-5 && (v[1] - 1.0).abs() < 1e-5 && (v[2] - 1.0).abs() < 1e-5,
            "{v:?}"
        );
    }

    #[test]
    fn a_table_is_read_and_its_rows_have_unit_length() {
        let t = WordVectors::parse(&table(&[
            (0, "kort", [100, 0, 0]),
            (1, "card", [90, 30, 0]),
        ]))
        .expect("valid table");
        assert_eq!((t.dims(), t.len()), (3, 2));
        let card = t.get("card", Locale::En).expect("card");
        assert!((card.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5);
        // Stems are per language.
        assert!(t.get("card", Locale::Sv).is_none());
        assert!(t.get("kort", Locale::Sv).is_some());
    }

    #[test]
    #[cfg(feature = "word-vectors")]
    fn the_shipped_table_reads_and_reaches_english_through_the_glossary() {
        let t = WordVectors::shipped().expect("built with the table");
        assert_eq!((t.dims(), t.len()), (64, 33_687));
        let analyzer = Analyzer::new();
        let vector = |text: &str, locale: Locale| {
            let v = t
                .text_vector(&analyzer.analyse(text, Some(locale)), 64, |_| 1.0)
                .expect("known words");
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect::<Vec<f32>>()
        };
        let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!(cosine(&vector("card", Locale::En), &vector("cards", Locale::En)) > 0.8);
        // Two wordings of one problem sharing one word are nearer than two
        // problems sharing as many.
        let blocked = vector("my card is blocked", Locale::En);
        let frozen = vector("my card was frozen", Locale::En);
        let invoice = vector("the invoice is wrong", Locale::En);
        assert!(cosine(&blocked, &frozen) > cosine(&blocked, &invoice) + 0.3);
        // Wordings of one problem that share no content word meet (the table
        // is adapted to a sentence model: data/word-vectors/README.md); the
        // table before the adaptation gave 0.25 against 0.14 here.
        let twice = vector("i was charged twice", Locale::En);
        let duplicate = vector("there is a duplicate payment on my statement", Locale::En);
        let close = vector("i want to close my account", Locale::En);
        assert!(
            cosine(&twice, &duplicate) > cosine(&twice, &close) + 0.3,
            "{} against {}",
            cosine(&twice, &duplicate),
            cosine(&twice, &close)
        );
        // A Swedish word the glossary knows counts as its English.
        let swedish = vector("leveransen", Locale::Sv);
        let english = vector("delivery", Locale::En);
        assert!(
            cosine(&swedish, &english) > 0.9,
            "{}",
            cosine(&swedish, &english)
        );
        // A word the vocabulary lacks is read by its pieces.
        assert!(t
            .text_vector(
                &analyzer.analyse("unrefundable", Some(Locale::En)),
                64,
                |_| 1.0
            )
            .is_some());
    }

    #[test]
    fn a_broken_table_is_refused_with_a_reason() {
        let good = table(&[(0, "kort", [1, 2, 3])]);
        let err = |b: &[u8]| WordVectors::parse(b).expect_err("broken").to_string();
        assert!(err(&good[..good.len() - 1]).contains("cut short"));
        assert!(err(b"GIF89a..").contains("not a pds word-vector table"));
        let mut wrong_language = good.clone();
        wrong_language[16] = 7;
        assert!(err(&wrong_language).contains("language 7"));
        let mut extra = good;
        extra.push(0);
        assert!(err(&extra).contains("after the last vector"));
    }

    #[test]
    fn a_text_vector_weights_the_words_the_table_knows() {
        let t = WordVectors::parse(&table(&[
            (1, "card", [127, 0, 0]),
            (1, "block", [0, 127, 0]),
        ]))
        .expect("valid table");
        let analyzer = Analyzer::new();
        let doc = analyzer.analyse("my card is blocked, zzyzx", Some(Locale::En));
        let v = t
            .text_vector(&doc, 3, |stem| if stem == "card" { 2.0 } else { 1.0 })
            .expect("known words");
        assert!(
            (v[0] - 2.0).abs() < 1e-5 && (v[1] - 1.0).abs() < 1e-5,
            "{v:?}"
        );
        let unknown = analyzer.analyse("zzyzx", Some(Locale::En));
        assert!(t.text_vector(&unknown, 3, |_| 1.0).is_none());
    }
}
