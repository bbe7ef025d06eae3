//! What may pass from one party's text to another's screen, decided once here:
//! what a customer's words become when stored, and what they become on each way
//! out (a terminal, a CSV file). HTML escaping is the templates' (handlebars
//! escapes every `{{value}}`); JSON escapes control characters itself.
//!
//! A leaf: it imports no other room of the crate.

/// A customer's text as it is stored: white space at the ends trimmed, line
/// breaks kept (as `\n`), tabs kept, and every other control character removed.
/// Such characters are invisible in a browser, can only have been sent by a
/// crafted request or a broken client, and would otherwise reach an analyst's
/// terminal (escape sequences) or fail on PostgreSQL (NUL, which its text type
/// cannot hold), so they are dropped rather than refused.
pub fn stored(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter(|&c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// Text for a terminal, on one line: line breaks and tabs become spaces, and any
/// other control character (escape sequences that could retitle the window,
/// clear the screen or write the clipboard) becomes U+FFFD, visibly.
pub fn for_terminal(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => char::REPLACEMENT_CHARACTER,
            c => c,
        })
        .collect()
}

/// Text for a CSV cell: control characters other than line breaks and tabs become
/// U+FFFD (a CSV file is read in terminals too), and text that a spreadsheet would
/// run as a formula gets a leading apostrophe, so a customer who writes
/// `=HYPERLINK(...)` cannot reach the analyst's machine.
pub fn for_spreadsheet(text: &str) -> String {
    let mut cell = String::with_capacity(text.len() + 1);
    for_spreadsheet_into(text, &mut cell);
    cell
}

/// [`for_spreadsheet`] of `text` into `cell` (emptied first), so that a writer of
/// many cells can keep one buffer.
pub fn for_spreadsheet_into(text: &str, cell: &mut String) {
    cell.clear();
    let cleaned = |c| match c {
        '\n' | '\r' | '\t' => c,
        c if c.is_control() => char::REPLACEMENT_CHARACTER,
        c => c,
    };
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.push('\'');
    }
    if text.chars().any(|c| cleaned(c) != c) {
        cell.extend(text.chars().map(cleaned));
    } else {
        cell.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "late\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7} box\u{0}!";

    #[test]
    fn stored_text_keeps_lines_and_drops_escapes_and_nul() {
        assert_eq!(
            stored("  Fakturan\r\nkom sent\t!  "),
            "Fakturan\nkom sent\t!"
        );
        let s = stored(HOSTILE);
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert_eq!(s, "late]0;pwned[2J]52;c;ZXZpbA== box!");
        assert_eq!(stored("\u{85}\u{9b}31m red"), "31m red", "C1 controls too");
    }

    #[test]
    fn terminals_never_receive_a_control_character() {
        let t = for_terminal(HOSTILE);
        assert!(!t.chars().any(char::is_control), "{t:?}");
        assert!(t.contains('\u{fffd}'), "what was there is visible");
        assert_eq!(for_terminal("two\nlines"), "two lines");
    }

    #[test]
    fn csv_cells_neutralise_formulas_and_escapes() {
        for (cell, safe) in [
            ("=1+1", "'=1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-2", "'-2"),
            ("late delivery", "late delivery"),
            ("two\nlines", "two\nlines"),
        ] {
            assert_eq!(for_spreadsheet(cell), safe, "{cell:?}");
        }
        let c = for_spreadsheet(HOSTILE);
        assert!(!c.chars().any(char::is_control), "{c:?}");
    }
}
