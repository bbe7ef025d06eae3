//! Contacts import: `email,name,locale,<segment columns...>` from CSV. A file with
//! any bad row imports nothing unless the caller chooses to skip bad rows; a contact
//! imported again is updated, never duplicated.

use std::collections::HashMap;
use std::io::Read;
use std::str::FromStr;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::ImportError;
/// Most segment columns a contacts file may have.
pub use crate::attributes::MAX_ATTRIBUTES;
use crate::attributes::{self, Attributes};
use crate::db::schema::contacts;
use crate::db::{now, Database};
use crate::error::Result;
use crate::survey::Locale;

/// Longest accepted name, in characters (segment columns: [`attributes::MAX_CHARS`]).
pub const MAX_FIELD_CHARS: usize = attributes::MAX_CHARS;

/// An email address that lettre accepts, stored lower-cased so that re-imports match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl FromStr for EmailAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.len() > 254 {
            // The first characters, not bytes: a byte index can split a character.
            let start: String = t.chars().take(20).collect();
            return Err(format!(
                "{start:?}... is longer than an email address can be"
            ));
        }
        t.parse::<lettre::Address>()
            .map(|a| EmailAddress(a.to_string().to_lowercase()))
            .map_err(|_| format!("{t:?} is not an email address"))
    }
}

impl EmailAddress {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A valid contact row.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub email: EmailAddress,
    pub name: String,
    pub locale: Locale,
    /// Segment columns, e.g. `customer_type = current`.
    pub attributes: Attributes,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub inserted: usize,
    pub updated: usize,
    /// Messages for rows left out with `--skip-invalid`.
    pub skipped: Vec<String>,
}

/// Parses a whole contacts file. Returns the valid rows and one message per bad row.
pub fn parse(reader: impl Read, file: &str) -> Result<(Vec<NewContact>, Vec<String>), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let header_error = |reason: String| ImportError::header(file, reason);
    let headers = super::header_names(&mut csv, file)?;
    let expected = ["email", "name", "locale"];
    if headers.len() < 3
        || !headers
            .iter()
            .zip(expected)
            .all(|(h, e)| h.eq_ignore_ascii_case(e))
    {
        return Err(header_error(format!(
            "the first line must start with the columns email,name,locale (then any segment columns); found {:?}",
            headers.join(",")
        )));
    }
    let segment_names: Vec<String> = headers[3..].to_vec();
    if segment_names.len() > MAX_ATTRIBUTES {
        return Err(header_error(format!(
            "{} segment columns; at most {MAX_ATTRIBUTES} are accepted",
            segment_names.len()
        )));
    }
    for (i, name) in segment_names.iter().enumerate() {
        if attributes::check_name(name).is_err() {
            return Err(header_error(format!(
                "segment column {} has no usable name",
                i + 4
            )));
        }
        if segment_names[..i].contains(name) || expected.contains(&name.to_lowercase().as_str()) {
            return Err(header_error(format!("column {name:?} appears twice")));
        }
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of: HashMap<EmailAddress, u64> = HashMap::new();
    for record in csv.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        match parse_row(&record, &segment_names) {
            Ok(contact) => {
                if let Some(first) = first_line_of.get(&contact.email) {
                    errors.push(format!(
                        "line {line}: {} is already on line {first}",
                        contact.email.as_str()
                    ));
                } else {
                    first_line_of.insert(contact.email.clone(), line);
                    rows.push(contact);
                }
            }
            Err(reason) => errors.push(format!("line {line}: {reason}")),
        }
    }
    Ok((rows, errors))
}

fn parse_row(record: &csv::StringRecord, segment_names: &[String]) -> Result<NewContact, String> {
    let field = |i: usize| record.get(i).unwrap_or("");
    let email: EmailAddress = field(0).parse()?;
    let name = field(1).to_string();
    attributes::check_value(&name).map_err(|why| format!("name {why}"))?;
    let locale: Locale = field(2)
        .parse()
        .map_err(|e: crate::survey::UnknownLocale| e.to_string())?;
    let mut attributes = Attributes::new();
    for (i, key) in segment_names.iter().enumerate() {
        let value = field(3 + i);
        let refused = |why: attributes::Refused| format!("{key} {why}");
        attributes::check_value(value).map_err(refused)?;
        if !value.is_empty() {
            attributes.insert(key, value).map_err(refused)?;
        }
    }
    Ok(NewContact {
        email,
        name,
        locale,
        attributes,
    })
}

/// Stores contacts in one transaction: new emails are inserted, known ones updated.
pub fn store(
    db: &Database,
    rows: &[NewContact],
    progress: &indicatif::ProgressBar,
) -> Result<ImportReport> {
    store_audience(db, rows, crate::audience::CUSTOMER, progress)
}

/// [`store`] into an audience (`customer` or `staff`).
fn store_audience(
    db: &Database,
    rows: &[NewContact],
    audience: &str,
    progress: &indicatif::ProgressBar,
) -> Result<ImportReport> {
    db.write(|conn| {
        let mut report = ImportReport::default();
        let stamp = now();
        for chunk in rows.chunks(500) {
            let emails: Vec<&str> = chunk.iter().map(|c| c.email.as_str()).collect();
            let known: HashMap<String, i64> = contacts::table
                .filter(contacts::email.eq_any(&emails))
                .select((contacts::email, contacts::id))
                .load::<(String, i64)>(conn)?
                .into_iter()
                .collect();
            for contact in chunk {
                let attributes = contact.attributes.to_stored();
                match known.get(contact.email.as_str()) {
                    Some(id) => {
                        diesel::update(contacts::table.find(id))
                            .set((
                                contacts::name.eq(&contact.name),
                                contacts::locale.eq(contact.locale.as_str()),
                                contacts::attributes.eq(&attributes),
                                contacts::audience.eq(audience),
                                contacts::updated_at.eq(stamp),
                            ))
                            .execute(conn)?;
                        report.updated += 1;
                    }
                    None => {
                        diesel::insert_into(contacts::table)
                            .values((
                                contacts::email.eq(contact.email.as_str()),
                                contacts::name.eq(&contact.name),
                                contacts::locale.eq(contact.locale.as_str()),
                                contacts::attributes.eq(&attributes),
                                contacts::audience.eq(audience),
                                contacts::created_at.eq(stamp),
                                contacts::updated_at.eq(stamp),
                            ))
                            .execute(conn)?;
                        report.inserted += 1;
                    }
                }
            }
            progress.inc(chunk.len() as u64);
        }
        Ok(report)
    })
}

/// Parses and stores a contacts file. With `skip_invalid` false, one bad row means
/// nothing is imported and every bad row is reported.
pub fn import(
    db: &Database,
    reader: impl Read,
    file: &str,
    skip_invalid: bool,
    progress: &indicatif::ProgressBar,
) -> Result<ImportReport> {
    let customers = crate::audience::CUSTOMER;
    import_audience(db, reader, file, skip_invalid, customers, progress)
}

/// [`import`] into an audience (`customer` or `staff`): a contact imported again
/// moves to the audience of the latest import.
pub fn import_audience(
    db: &Database,
    reader: impl Read,
    file: &str,
    skip_invalid: bool,
    audience: &str,
    progress: &indicatif::ProgressBar,
) -> Result<ImportReport> {
    let (rows, errors) = parse(reader, file)?;
    if !errors.is_empty() && !skip_invalid {
        return Err(ImportError::Rejected {
            file: file.to_string(),
            errors,
        }
        .into());
    }
    progress.set_length(rows.len() as u64);
    let mut report = store_audience(db, &rows, audience, progress)?;
    report.skipped = errors;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_segment_columns_and_reports_bad_rows_by_line() {
        let csv = "email,name,locale,region\n\
                   anna@example.se,Anna Åberg,sv,North\n\
                   anna@,Bad,sv,South\n\
                   bob@example.com,Bob,de,West\n\
                   ANNA@example.se,Anna again,sv,East\n";
        let (rows, errors) = parse(csv.as_bytes(), "c.csv").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].attributes.get("region").unwrap(), "North");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("line 3: \"anna@\" is not an email address"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("line 4") && errors[1].contains("unknown locale"),
            "{errors:?}"
        );
        assert!(
            errors[2].contains("line 5") && errors[2].contains("line 2"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_file_without_the_required_columns_is_refused() {
        let err = parse("name,email\nx,y\n".as_bytes(), "c.csv").unwrap_err();
        assert!(err.to_string().contains("email,name,locale"), "{err}");
    }

    #[test]
    fn an_overlong_email_with_accented_letters_is_a_bad_row_not_a_crash() {
        // Found while writing the contacts_csv fuzz target: the message cut the
        // address at a byte index inside "é".
        let email = format!("a{}@example.se", "é".repeat(130));
        let csv = format!("email,name,locale\n{email},Anna,sv\n");
        let (rows, errors) = parse(csv.as_bytes(), "c.csv").unwrap();
        assert!(rows.is_empty());
        assert!(
            errors[0].starts_with("line 2: \"aééééééééééééééééééé\"... is longer"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_segment_column_named_with_control_characters_is_refused() {
        // Found by `cargo fuzz run contacts_csv`: values were checked for control
        // characters, column names were not, so "region\0" became a segment.
        let csv = "email,name,locale,region\0\nanna@example.se,Anna,sv,North\n";
        let err = parse(csv.as_bytes(), "c.csv").unwrap_err();
        assert!(err.to_string().contains("segment column 4"), "{err}");
    }

    #[test]
    fn a_utf8_bom_from_excel_is_accepted() {
        let csv = "\u{feff}email,name,locale\nanna@example.se,Anna,sv\n";
        let (rows, errors) = parse(csv.as_bytes(), "c.csv").unwrap();
        assert_eq!((rows.len(), errors.len()), (1, 0));
    }
}
