//! An export as an Excel workbook: the CSV that `export` writes, read back row by
//! row into one worksheet. Every text cell is written as a string, never as a
//! formula, so a customer's `=HYPERLINK(...)` stays text (the CSV already put an
//! apostrophe before it, see `text_safety::for_spreadsheet`); numbers stay numbers.

use std::io::{Read, Seek, Write};

use rust_xlsxwriter::{Format, Workbook};

use crate::error::{Error, Result};

/// Rows an Excel worksheet holds at most (the header included).
pub const MAX_ROWS: usize = 1_048_576;

/// Writes the standard-dialect CSV `csv` as a workbook with one sheet, `sheet`.
///
/// # Errors
/// A CSV that does not parse (ours always does), more than [`MAX_ROWS`] rows, or
/// a write that fails.
pub fn from_csv(csv: impl Read, sheet: &str, out: impl Write + Seek + Send) -> Result<()> {
    let broken = |what: &str, e: &dyn std::fmt::Display| Error::Internal(format!("{what}: {e}"));
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet
        .set_name(sheet)
        .map_err(|e| broken("naming the sheet", &e))?;
    let bold = Format::new().set_bold();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| broken("reading the export back", &e))?;
        if row >= MAX_ROWS {
            return Err(Error::Invalid(format!(
                "this export has more than {MAX_ROWS} rows, more than an Excel sheet holds; download it as CSV"
            )));
        }
        for (column, cell) in record.iter().enumerate() {
            let (r, c) = (row as u32, column as u16);
            let written = match cell.parse::<f64>() {
                Ok(number) if row > 0 && number.is_finite() => {
                    worksheet.write_number(r, c, number).map(|_| ())
                }
                _ if row == 0 => worksheet
                    .write_string_with_format(r, c, cell, &bold)
                    .map(|_| ()),
                _ => worksheet.write_string(r, c, cell).map(|_| ()),
            };
            written.map_err(|e| broken("writing a cell", &e))?;
        }
    }
    workbook
        .save_to_writer(out)
        .map_err(|e| broken("writing the workbook", &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn a_csv_becomes_a_workbook_whose_formulas_stay_text() {
        let csv = "area,score\n'=HYPERLINK(\"x\"),0.25\n";
        let mut out = Cursor::new(Vec::new());
        from_csv(csv.as_bytes(), "areas", &mut out).expect("written");
        let bytes = out.into_inner();
        assert_eq!(&bytes[..2], b"PK", "a zip file");
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .expect("one sheet")
            .read_to_string(&mut sheet)
            .unwrap();
        assert!(!sheet.contains("<f>"), "no formula: {sheet}");
        assert!(sheet.contains("<v>0.25</v>"), "{sheet}");
    }
}
