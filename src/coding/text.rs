//! Text normalisation for Swedish and English mentions: the one place that decides
//! what a "word" is. It strips HTML, applies Unicode NFKC, lower-cases, splits into
//! tokens, marks stop words, stems with Snowball in the mention's language, and
//! cuts words into character n-grams (which is how "leveransförsening" stays close to
//! "leverans försening", and "delivey" to "delivery").
//!
//! It never changes a mention's text: it returns new values describing it. It holds
//! no caches and no state between calls, so one `Analyzer` can be shared by threads.

use std::borrow::Cow;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use whatlang::{Detector, Lang};

use super::{lexicon, stopwords};
use crate::survey::Locale;

/// Tokens analysed per mention. A mention is a few words; anything past this is a
/// pasted e-mail or junk, and bounding it keeps one bad mention from costing more
/// than a thousand ordinary ones.
pub const MAX_TOKENS: usize = 512;

/// Words longer than this are not words (URLs without spaces, hashes, key mashing):
/// they are kept as tokens but give no features.
pub const MAX_WORD_CHARS: usize = 40;

/// What a token is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word that can say which problem this is.
    Content,
    /// A stop word ("och", "the"): kept in order for phrases, not compared.
    Stop,
    /// A number or an over-long string: kept, not compared.
    Other,
}

/// One word of a mention, as normalised and stemmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word lower-cased, NFKC-normalised, apostrophes removed ("didn't" -> "didnt").
    pub word: String,
    /// The Snowball stem of `word` in the mention's language (equal to `word` for
    /// stop words and numbers).
    pub stem: String,
    pub kind: TokenKind,
}

/// A mention's text, analysed. The original text is not part of it and is never
/// modified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysed {
    /// The language the words were stemmed in.
    pub locale: Locale,
    /// True when `locale` was detected from the text rather than given.
    pub detected: bool,
    pub tokens: Vec<Token>,
}

impl Analysed {
    /// The tokens that can say which problem this is.
    pub fn content(&self) -> impl Iterator<Item = &Token> {
        self.tokens.iter().filter(|t| t.kind == TokenKind::Content)
    }

    /// The stems of the content tokens, in order.
    pub fn stems(&self) -> impl Iterator<Item = &str> {
        self.content().map(|t| t.stem.as_str())
    }
}

/// Stems and detects language. Cheap to share: it holds the two Snowball stemmers
/// and a language detector restricted to Swedish and English.
pub struct Analyzer {
    swedish: Stemmer,
    english: Stemmer,
    detector: Detector,
    fallback: Locale,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new()
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

impl Analyzer {
    /// An analyser whose language detection falls back to Swedish when a text gives
    /// no clue (a single unknown word such as "levtid"): PDS studies on this engine
    /// are mostly Swedish.
    pub fn new() -> Self {
        Analyzer::with_fallback(Locale::Sv)
    }

    /// An analyser that assumes `fallback` when a text gives no language clue.
    pub fn with_fallback(fallback: Locale) -> Self {
        Analyzer {
            swedish: Stemmer::create(Algorithm::Swedish),
            english: Stemmer::create(Algorithm::English),
            detector: Detector::with_allowlist(vec![Lang::Swe, Lang::Eng]),
            fallback,
        }
    }

    /// Analyse one mention. `locale` is the respondent's locale when known; when
    /// `None` the language is detected from the text itself.
    pub fn analyse(&self, text: &str, locale: Option<Locale>) -> Analysed {
        self.analyse_normalised(&normalise(text), locale)
    }

    /// `analyse` for a text already passed through [`normalise`].
    pub fn analyse_normalised(&self, normalised: &str, locale: Option<Locale>) -> Analysed {
        let words: Vec<&str> = words(normalised).take(MAX_TOKENS).collect();
        let (locale, detected) = match locale {
            Some(locale) => (locale, false),
            None => (self.detect_words(&words, normalised), true),
        };
        let tokens = words.iter().map(|&word| self.token(word, locale)).collect();
        Analysed {
            locale,
            detected,
            tokens,
        }
    }

    /// The language a text is most likely written in: Swedish or English.
    pub fn detect_language(&self, text: &str) -> Locale {
        let normalised = normalise(text);
        let words: Vec<&str> = words(&normalised).take(MAX_TOKENS).collect();
        self.detect_words(&words, &normalised)
    }

    /// Stop words, words only one side of the glossary knows (`lexicon`) and
    /// Swedish letters decide first, because letter statistics (whatlang) are
    /// unreliable on three-word texts; whatlang breaks ties.
    fn detect_words(&self, words: &[&str], normalised: &str) -> Locale {
        let (mut swedish, mut english) = stopwords::stop_word_votes(words.iter().copied());
        let (sv, en) = lexicon::language_votes(words.iter().copied());
        swedish += sv;
        english += en;
        if normalised.contains(['å', 'ä', 'ö']) {
            swedish += 2;
        }
        if swedish != english {
            return if swedish > english {
                Locale::Sv
            } else {
                Locale::En
            };
        }
        match self.detector.detect_lang(normalised) {
            Some(Lang::Swe) => Locale::Sv,
            Some(Lang::Eng) => Locale::En,
            _ => self.fallback,
        }
    }

    /// The stem of a lower-cased word in `locale`.
    pub fn stem<'w>(&self, word: &'w str, locale: Locale) -> Cow<'w, str> {
        match locale {
            Locale::En => self.english.stem(word),
            // Snowball Swedish is not idempotent: "leveransen" -> "leverans" but
            // "leverans" -> "leveran". A second pass puts the definite, plural and
            // bare forms of a noun on one stem, which matters more here than the
            // occasional over-stemmed word.
            Locale::Sv => match self.swedish.stem(word) {
                Cow::Borrowed(once) => self.swedish.stem(once),
                Cow::Owned(once) => Cow::Owned(self.swedish.stem(&once).into_owned()),
            },
        }
    }

    fn token(&self, word: &str, locale: Locale) -> Token {
        let kind = token_kind(word);
        let stem = match kind {
            TokenKind::Content => self.stem(word, locale).into_owned(),
            TokenKind::Stop | TokenKind::Other => word.to_string(),
        };
        Token {
            word: word.to_string(),
            stem,
            kind,
        }
    }
}

/// What a normalised word is good for.
pub fn token_kind(word: &str) -> TokenKind {
    if stopwords::is_stop_word(word) {
        TokenKind::Stop
    } else if word.chars().count() > MAX_WORD_CHARS || !word.chars().any(char::is_alphabetic) {
        TokenKind::Other
    } else {
        TokenKind::Content
    }
}

/// A mention's text as the analyser reads it: HTML tags dropped and common entities
/// decoded, NFKC-normalised, lower-cased, apostrophes inside words removed
/// ("didn't" -> "didnt") and everything that is not a letter or digit turned into a
/// single space. Emoji and punctuation disappear; letters in any script stay.
pub fn normalise(text: &str) -> String {
    let visible = strip_html(text);
    let folded: Cow<'_, str> = if visible.is_ascii() {
        visible
    } else {
        Cow::Owned(visible.nfkc().collect())
    };
    let mut out = String::with_capacity(folded.len());
    let mut pending_space = false;
    let mut previous_alphanumeric = false;
    let mut chars = folded.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
            previous_alphanumeric = true;
        } else if is_apostrophe(c)
            && previous_alphanumeric
            && chars.peek().is_some_and(|n| n.is_alphanumeric())
        {
            // Inside a word: "didn't", "customer's". Dropped, not a break.
        } else {
            pending_space = true;
            previous_alphanumeric = false;
        }
    }
    out
}

/// The words of a normalised text.
pub fn words(normalised: &str) -> impl Iterator<Item = &str> {
    normalised.split(' ').filter(|w| !w.is_empty())
}

/// The character n-grams of a word, with `#` marking its start and end:
/// `char_ngrams("lev", 3)` is `["#le", "lev", "ev#"]`. Words shorter than `n - 1`
/// characters give the whole marked word.
pub fn char_ngrams(word: &str, n: usize) -> Vec<String> {
    let marked: Vec<char> = std::iter::once('#')
        .chain(word.chars())
        .chain(std::iter::once('#'))
        .collect();
    if n == 0 {
        return Vec::new();
    }
    if marked.len() <= n {
        return vec![marked.iter().collect()];
    }
    marked.windows(n).map(|w| w.iter().collect()).collect()
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '`' | '´')
}

/// Drops `<tag ...>` and `<!-- ... -->` and decodes the five XML entities plus
/// `&nbsp;`. A `<` that does not open a tag ("price < 100") is kept.
fn strip_html(text: &str) -> Cow<'_, str> {
    if !text.contains(['<', '&']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = skip_tag(tail) {
            out.push(' ');
            rest = after;
        } else if let Some((decoded, after)) = decode_entity(tail) {
            out.push(decoded);
            rest = after;
        } else {
            // `tail` starts with a one-byte ASCII character.
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// When `tail` opens a tag or comment, the text after it.
fn skip_tag(tail: &str) -> Option<&str> {
    let body = tail.strip_prefix('<')?;
    if let Some(comment) = body.strip_prefix("!--") {
        return comment.find("-->").map(|end| &comment[end + 3..]);
    }
    let first = body.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '/' || first == '!') {
        return None;
    }
    // A tag is short and has no second '<' before its '>'.
    let end = body.find('>')?;
    if end > 512 || body[..end].contains('<') {
        return None;
    }
    Some(&body[end + 1..])
}

fn decode_entity(tail: &str) -> Option<(char, &str)> {
    const ENTITIES: [(&str, char); 7] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&apos;", '\''),
        ("&#39;", '\''),
        ("&nbsp;", ' '),
    ];
    ENTITIES
        .iter()
        .find_map(|(name, c)| tail.strip_prefix(name).map(|rest| (*c, rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str, locale: Locale) -> Vec<String> {
        Analyzer::new()
            .analyse(text, Some(locale))
            .stems()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn inflections_share_a_stem() {
        let analyzer = Analyzer::new();
        for (locale, a, b) in [
            (Locale::Sv, "leveransen", "leverans"),
            (Locale::Sv, "leveranser", "leverans"),
            (Locale::Sv, "förseningar", "försening"),
            (Locale::Sv, "reklamationen", "reklamationer"),
            (Locale::En, "deliveries", "delivery"),
            (Locale::En, "invoicing", "invoices"),
            (Locale::En, "delayed", "delays"),
        ] {
            assert_eq!(
                analyzer.stem(a, locale),
                analyzer.stem(b, locale),
                "{a} ~ {b}"
            );
        }
    }

    #[test]
    fn stop_words_are_kept_but_not_content() {
        let analysed = Analyzer::new().analyse("Leveransen kom för sent!", Some(Locale::Sv));
        let words: Vec<_> = analysed.tokens.iter().map(|t| t.word.as_str()).collect();
        assert_eq!(words, ["leveransen", "kom", "för", "sent"]);
        assert_eq!(
            stems("Leveransen kom för sent!", Locale::Sv),
            ["leveran", "kom", "sent"]
        );
        assert_eq!(
            stems("The delivery was late", Locale::En),
            ["deliveri", "late"]
        );
    }

    #[test]
    fn normalisation_folds_case_width_html_and_apostrophes() {
        for (text, normal) in [
            ("  Late   DELIVERY!! ", "late delivery"),
            ("ﬁle Ｆａｋｔｕｒａ", "file faktura"),
            ("<p>Fel <b>moms</b></p>", "fel moms"),
            ("price &lt; 100 &amp; rising", "price 100 rising"),
            (
                "didn't arrive, customer’s order",
                "didnt arrive customers order",
            ),
            ("a < b", "a b"),
            ("🙂🙂🙂", ""),
        ] {
            assert_eq!(normalise(text), normal, "{text:?}");
        }
    }

    #[test]
    fn language_is_detected_when_unknown() {
        let analyzer = Analyzer::new();
        assert_eq!(
            analyzer.detect_language("Leveransen kom för sent"),
            Locale::Sv
        );
        assert_eq!(
            analyzer.detect_language("the delivery was late again"),
            Locale::En
        );
        assert_eq!(analyzer.detect_language("sena leveranser"), Locale::Sv);
        assert_eq!(analyzer.detect_language("telefonkö"), Locale::Sv);
        let detected = analyzer.analyse("delivery was late", None);
        assert!(detected.detected);
        assert_eq!(detected.locale, Locale::En);
    }

    #[test]
    fn two_word_texts_are_read_in_the_language_of_their_known_words() {
        // Neither has a stop word or a Swedish letter; letter statistics alone
        // read the first as English and the second as Swedish.
        let analyzer = Analyzer::new();
        assert_eq!(analyzer.detect_language("fick fel produkt"), Locale::Sv);
        assert_eq!(analyzer.detect_language("Unclear pricing"), Locale::En);
        assert_eq!(analyzer.detect_language("hidden fees"), Locale::En);
    }

    #[test]
    fn a_given_locale_wins_over_detection() {
        let analysed = Analyzer::new().analyse("the delivery was late", Some(Locale::Sv));
        assert_eq!(analysed.locale, Locale::Sv);
        assert!(!analysed.detected);
    }

    #[test]
    fn ngrams_mark_word_boundaries() {
        assert_eq!(char_ngrams("lev", 3), ["#le", "lev", "ev#"]);
        assert_eq!(char_ngrams("å", 3), ["#å#"]);
        assert!(char_ngrams("lev", 0).is_empty());
    }

    #[test]
    fn bad_input_gives_empty_or_bounded_analysis() {
        let analyzer = Analyzer::new();
        for text in [
            "",
            "   ",
            "🙂🙂",
            "<br/><br/>",
            "&&&&",
            "<<<>>>",
            "\u{0}\u{200b}",
        ] {
            let analysed = analyzer.analyse(text, None);
            assert_eq!(analysed.content().count(), 0, "{text:?}");
        }
        let long = "leverans ".repeat(2_000);
        assert_eq!(analyzer.analyse(&long, None).tokens.len(), MAX_TOKENS);
        let mash = "x".repeat(10_000);
        let analysed = analyzer.analyse(&mash, None);
        assert_eq!(analysed.tokens[0].kind, TokenKind::Other);
        let numbers = analyzer.analyse("40 minuter 2024", Some(Locale::Sv));
        assert_eq!(numbers.stems().collect::<Vec<_>>(), ["minut"]);
    }
}
