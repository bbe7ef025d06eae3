//! A contact's or a response's segment columns (`customer_type = current`), as one
//! type: checked where contacts are imported, stored as a JSON object of text in the
//! `attributes` column of `contacts` and `responses`, and read back without losing a
//! value. A leaf: imports nothing of the crate, so every room may use it.
//!
//! Reading is tolerant of what a value may be but not of what the column may be: a
//! value that is not text (a number, `true`) keeps its JSON spelling and a `null` is
//! no value, while a column that is not a JSON object at all is refused with
//! [`Unreadable`], which names the row, rather than read as "no segment columns".

use std::collections::BTreeMap;
use std::fmt;

/// At most this many segment columns per contact.
pub const MAX_ATTRIBUTES: usize = 32;
/// At most this many characters in a segment column's name or value.
pub const MAX_CHARS: usize = 200;

/// Segment columns: names to values, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Attributes(BTreeMap<String, String>);

/// Why a segment column's name or value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A name with no characters.
    Empty,
    /// Over [`MAX_CHARS`] characters.
    TooLong,
    /// A tab, newline or other control character.
    Control,
    /// More than [`MAX_ATTRIBUTES`] columns.
    TooMany,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Empty => write!(f, "is empty"),
            Refused::TooLong => write!(f, "is longer than {MAX_CHARS} characters"),
            Refused::Control => write!(f, "contains control characters"),
            Refused::TooMany => write!(
                f,
                "is one segment column too many (at most {MAX_ATTRIBUTES})"
            ),
        }
    }
}

/// A stored `attributes` column that is not a JSON object: the row it belongs to
/// and what is wrong, so the row can be found and mended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{owner}: the stored segment columns are not a JSON object of text ({reason}); mend the row's `attributes` column, e.g. {{\"region\":\"North\"}}")]
pub struct Unreadable {
    /// `contact 12`, `response 40`.
    pub owner: String,
    pub reason: String,
}

/// Whether `name` may name a segment column.
pub fn check_name(name: &str) -> Result<(), Refused> {
    if name.is_empty() {
        return Err(Refused::Empty);
    }
    check_value(name)
}

/// Whether `value` may be a segment column's value (empty means "no value").
pub fn check_value(value: &str) -> Result<(), Refused> {
    if value.chars().count() > MAX_CHARS {
        return Err(Refused::TooLong);
    }
    if value.chars().any(char::is_control) {
        return Err(Refused::Control);
    }
    Ok(())
}

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` after the checks of [`check_name`] and [`check_value`]
    /// and the limit of [`MAX_ATTRIBUTES`] columns.
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), Refused> {
        check_name(name)?;
        check_value(value)?;
        if !self.0.contains_key(name) && self.0.len() >= MAX_ATTRIBUTES {
            return Err(Refused::TooMany);
        }
        self.0.insert(name.to_string(), value.to_string());
        Ok(())
    }

    /// Reads a stored `attributes` column; `owner` names its row in the error.
    pub fn from_stored(json: &str, owner: impl FnOnce() -> String) -> Result<Self, Unreadable> {
        let refuse = |reason: String| Unreadable {
            owner: owner(),
            reason,
        };
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(map)) => Ok(Attributes(
                map.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect(),
            )),
            Ok(other) => Err(refuse(format!("found {}", kind_of(&other)))),
            Err(e) => Err(refuse(e.to_string())),
        }
    }

    /// The text stored in an `attributes` column: a JSON object, keys sorted.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).expect("a map of text to text is always JSON")
    }

    /// The value of segment column `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Removes and returns the value of `name`.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    /// Names and values, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The names, sorted, owned.
    pub fn into_names(self) -> impl Iterator<Item = String> {
        self.0.into_keys()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The columns as a map, for code that matches on them (routing rules).
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl IntoIterator for Attributes {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(json: &str) -> Result<Attributes, Unreadable> {
        Attributes::from_stored(json, || "contact 7".to_string())
    }

    #[test]
    fn what_is_stored_reads_back_the_same() {
        let mut a = Attributes::new();
        a.insert("region", "North").unwrap();
        a.insert("customer_type", "current").unwrap();
        let text = a.to_stored();
        assert_eq!(text, r#"{"customer_type":"current","region":"North"}"#);
        assert_eq!(stored(&text).unwrap(), a);
        assert_eq!(Attributes::new().to_stored(), "{}");
    }

    #[test]
    fn values_that_are_not_text_keep_their_json_spelling_and_null_is_no_value() {
        let a = stored(r#"{"age":42,"vip":true,"gone":null,"region":"North"}"#).unwrap();
        assert_eq!(a.get("age"), Some("42"));
        assert_eq!(a.get("vip"), Some("true"));
        assert_eq!(a.get("gone"), None);
        assert_eq!(a.names().collect::<Vec<_>>(), ["age", "region", "vip"]);
    }

    #[test]
    fn a_column_that_is_not_an_object_is_refused_naming_the_row() {
        let err = stored("[1,2]").unwrap_err();
        assert_eq!(err.owner, "contact 7");
        assert!(err.to_string().starts_with("contact 7: "), "{err}");
        assert!(err.to_string().contains("found a list"), "{err}");
        let err = stored("{not json").unwrap_err();
        assert!(err.to_string().contains("mend the row"), "{err}");
    }

    #[test]
    fn names_and_values_are_checked_and_counted() {
        let mut a = Attributes::new();
        assert_eq!(a.insert("", "x"), Err(Refused::Empty));
        assert_eq!(a.insert("region", "North\n"), Err(Refused::Control));
        assert_eq!(
            a.insert("region", &"x".repeat(MAX_CHARS + 1)),
            Err(Refused::TooLong)
        );
        assert!(a.insert("region", &"x".repeat(MAX_CHARS)).is_ok());
        for i in 1..MAX_ATTRIBUTES {
            a.insert(&format!("c{i}"), "v").unwrap();
        }
        assert_eq!(a.insert("one_more", "v"), Err(Refused::TooMany));
        // Setting a column again is not one more.
        assert!(a.insert("region", "South").is_ok());
        assert_eq!(a.len(), MAX_ATTRIBUTES);
    }
}
