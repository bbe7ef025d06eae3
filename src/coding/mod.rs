//! Coding: grouping customers' own words into problem areas. For now this room
//! holds the first, deliberately simple grouping: mentions whose normalised text is
//! identical form one area. Every mention keeps its original text; coding only
//! decides which area it counts in.

use unicode_normalization::UnicodeNormalization;

/// The grouping key of a mention: Unicode-normalised (NFKC), lower-cased, with
/// punctuation dropped and white space collapsed. "Late delivery!" and
/// "late  delivery" share a key; "levtid" and "late delivery" do not.
pub fn group_key(text: &str) -> String {
    let cleaned: String = text
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_punctuation_and_spacing_do_not_split_an_area() {
        assert_eq!(group_key("Late delivery!"), group_key("  late   DELIVERY "));
        assert_eq!(
            group_key("Leveransen kom för sent."),
            "leveransen kom för sent"
        );
        assert_ne!(group_key("levtid"), group_key("late delivery"));
    }

    #[test]
    fn odd_input_does_not_panic() {
        assert_eq!(group_key(""), "");
        assert_eq!(group_key("🙂🙂"), "");
        assert_eq!(group_key("<b>FEL</b>"), "b fel b");
        assert_eq!(group_key("ﬁle"), "file");
    }
}
