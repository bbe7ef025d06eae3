//! Line numbers for errors in the files a person writes (`codebook.toml`,
//! `checklist.toml`): parsers report byte offsets, people read lines. A leaf: it
//! imports no other room of the crate.

/// Byte offset to 1-based line number in one source text.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// The line (from 1) that holds the byte at `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// A parser's message on one line (TOML errors span several, with a drawing of
/// the line), for an error list that names file and line itself.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_the_lines_a_person_counts() {
        let lines = LineIndex::new("a = 1\nb = 2\n\nc = 3");
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.line_of(5), 1, "the line break belongs to its line");
        assert_eq!(lines.line_of(6), 2);
        assert_eq!(lines.line_of(12), 3);
        assert_eq!(lines.line_of(13), 4);
        assert_eq!(
            one_line("expected `=`\n  |\n1 | a 1\n  |   ^"),
            "expected `=` | 1 | a 1 | ^"
        );
    }
}
