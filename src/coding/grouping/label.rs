//! An area's label: a phrase its mentions share, as they wrote it.

use super::super::features::FnvMap;
use super::super::text::{Analysed, TokenKind};

/// Content words a label grows to at most ("kundtjänst svarar aldrig på mejl").
const MOST_WORDS: usize = 4;

/// Stop words and numbers a label keeps between two of its content words at
/// most ("payment was late"); a wider gap is written as the two words alone.
const MOST_BETWEEN: usize = 2;

/// A label that reads like a problem, as the mentions put it: the pair of
/// neighbouring content words (stop words between them allowed) that the most
/// of an area's mentions share, when at least a fifth of them (and two) use it
/// and it holds one of the area's top two words; grown by the content word
/// before or after it that four in five of those mentions also have, up to
/// [`MOST_WORDS`] words; written as most of them write it, stop words between
/// included ("exchange rate", "payment was late", "svarar aldrig på mejl").
/// Else the area's two most typical words ("exchange / rate").
pub(super) fn phrase_label(
    docs_in: &[u32],
    docs: &[&Analysed],
    counts: &[u32],
    terms: &[String],
    mentions: u64,
) -> String {
    let top: Vec<&str> = terms.iter().take(2).map(String::as_str).collect();
    let content: Vec<(u32, Vec<usize>)> = docs_in
        .iter()
        .map(|&doc| {
            let tokens = &docs[doc as usize].tokens;
            let at = (0..tokens.len())
                .filter(|&i| tokens[i].kind == TokenKind::Content && !is_redaction(&tokens[i].word))
                .collect();
            (doc, at)
        })
        .collect();
    let word = |doc: u32, i: usize| docs[doc as usize].tokens[i].word.as_str();
    let weight = |doc: u32| u64::from(counts[doc as usize]);

    let mut pairs: FnvMap<(&str, &str), u64> = FnvMap::default();
    for (doc, at) in &content {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for w in at.windows(2) {
            let pair = (word(*doc, w[0]), word(*doc, w[1]));
            if pair.0 != pair.1 && !seen.contains(&pair) {
                seen.push(pair);
                *pairs.entry(pair).or_insert(0) += weight(*doc);
            }
        }
    }
    let best = pairs
        .into_iter()
        .filter(|((a, b), n)| *n >= 2 && *n * 5 >= mentions && (top.contains(a) || top.contains(b)))
        .max_by(|x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(&x.0)));
    let Some(((a, b), _)) = best else {
        return top.join(" / ");
    };

    // Where each mention has the pair: its first place, as positions in the
    // mention's content words, `lo..=hi`.
    let mut spans: Vec<(u32, &[usize], usize, usize)> = content
        .iter()
        .filter_map(|(doc, at)| {
            let k = at
                .windows(2)
                .position(|w| word(*doc, w[0]) == a && word(*doc, w[1]) == b)?;
            Some((*doc, at.as_slice(), k, k + 1))
        })
        .collect();
    while spans[0].3 - spans[0].2 + 1 < MOST_WORDS {
        let total: u64 = spans.iter().map(|s| weight(s.0)).sum();
        let mut grown: FnvMap<(bool, &str), u64> = FnvMap::default();
        for &(doc, at, lo, hi) in &spans {
            if lo > 0 {
                *grown.entry((false, word(doc, at[lo - 1]))).or_insert(0) += weight(doc);
            }
            if let Some(&next) = at.get(hi + 1) {
                *grown.entry((true, word(doc, next))).or_insert(0) += weight(doc);
            }
        }
        let Some(((after, w), n)) = grown
            .into_iter()
            .filter(|((_, w), _)| *w != a && *w != b)
            .max_by(|x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
        else {
            break;
        };
        if n * 5 < total * 4 {
            break;
        }
        spans.retain(|&(doc, at, lo, hi)| match after {
            true => at.get(hi + 1).is_some_and(|&i| word(doc, i) == w),
            false => lo > 0 && word(doc, at[lo - 1]) == w,
        });
        for span in &mut spans {
            match after {
                true => span.3 += 1,
                false => span.2 -= 1,
            }
        }
    }

    // The phrase as most of those mentions write it.
    let mut written: FnvMap<String, u64> = FnvMap::default();
    for &(doc, at, lo, hi) in &spans {
        let tokens = &docs[doc as usize].tokens;
        let mut words: Vec<&str> = Vec::new();
        for k in lo..=hi {
            if k > lo {
                let between: Vec<&str> = (at[k - 1] + 1..at[k])
                    .map(|i| tokens[i].word.as_str())
                    .filter(|w| !is_redaction(w))
                    .collect();
                if between.len() <= MOST_BETWEEN {
                    words.extend(between);
                }
            }
            words.push(tokens[at[k]].word.as_str());
        }
        *written.entry(words.join(" ")).or_insert(0) += weight(doc);
    }
    written
        .into_iter()
        .max_by(|x, y| x.1.cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
        .map(|(phrase, _)| phrase)
        .unwrap_or_else(|| format!("{a} {b}"))
}

/// Whether `word` is a redaction mark ("XX", "XXXX"): complaint data put them in
/// place of names, dates and account numbers. They still count in grouping (where
/// they are in a text says something of what it is about), but a label or typical
/// word "xxxx" tells an analyst nothing, so labels and typical words skip them.
pub(super) fn is_redaction(word: &str) -> bool {
    word.len() >= 2 && word.chars().all(|c| c == 'x' || c == 'X')
}
