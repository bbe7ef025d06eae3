//! A checklist answers file read into whole respondents: the header checked, each
//! row checked against the checklist, rows gathered per respondent and wave, and
//! a respondent with any bad row left out whole. Reads only; `mod.rs` stores.

use std::collections::HashMap;
use std::io::Read;

use super::super::answer::{Bother, Experienced, ItemAnswer, SolvedElsewhere};
use super::super::Checklist;
use super::ImportedChecklist;
use crate::answer::import::check_field;
use crate::audience::{CUSTOMER, STAFF};
use crate::invite::ImportError;
use crate::survey::WaveLabel;

const REQUIRED: [&str; 4] = ["respondent", "wave", "item", "experienced"];
const OPTIONAL: [&str; 6] = [
    "segment",
    "audience",
    "bother",
    "solved_elsewhere",
    "rank",
    "problem",
];

/// A respondent while their rows are read.
struct Gathering {
    first_line: u64,
    /// The segment and audience as the first row gives them.
    segment: String,
    audience: String,
    /// By item index: the line and the answer.
    items: Vec<Option<(u64, ItemAnswer)>>,
    /// (rank as given, line, text).
    write_ins: Vec<(u32, u64, String)>,
    bad: bool,
}

/// The fields of one row, by column name (absent columns read as empty).
struct Row<'r> {
    fields: HashMap<&'static str, &'r str>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        self.fields.get(column).copied().unwrap_or("")
    }
}

/// Reads a checklist answers file for `checklist` (a survey offering up to
/// `max_problems` write-ins). Returns the respondents without errors, how many
/// respondents had errors, and one message per bad row.
pub fn parse(
    reader: impl Read,
    file: &str,
    checklist: &Checklist,
    max_problems: u32,
) -> std::result::Result<(Vec<ImportedChecklist>, usize, Vec<String>), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let columns = columns(&mut csv, file)?;
    let mut parser = Parser {
        checklist,
        max_problems,
        order: Vec::new(),
        respondents: HashMap::new(),
        errors: Vec::new(),
    };
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                parser.errors.push(format!("line {line}: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let row = Row {
            fields: columns
                .iter()
                .map(|(name, &i)| (*name, record.get(i).unwrap_or("")))
                .collect(),
        };
        if let Err(reason) = parser.row(line, &row) {
            parser.errors.push(format!("line {line}: {reason}"));
        }
    }
    Ok(parser.finish())
}

/// The header: where each column is, or what is wrong with it.
fn columns<R: Read>(
    csv: &mut csv::Reader<R>,
    file: &str,
) -> std::result::Result<HashMap<&'static str, usize>, ImportError> {
    let header_error = |reason: String| ImportError::header(file, reason);
    let names = || {
        format!(
            "{} and optionally {}",
            REQUIRED.join(","),
            OPTIONAL.join(",")
        )
    };
    let mut columns = HashMap::new();
    for (i, h) in crate::invite::header_names(csv, file)?.iter().enumerate() {
        let h = h.trim().to_lowercase();
        let Some(name) = REQUIRED.iter().chain(&OPTIONAL).find(|c| **c == h) else {
            return Err(header_error(format!(
                "unknown column {h:?}; a checklist survey's answers have the columns {}",
                names()
            )));
        };
        if columns.insert(*name, i).is_some() {
            return Err(header_error(format!("column {h:?} appears twice")));
        }
    }
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|c| !columns.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(header_error(format!(
            "missing column(s) {}; the first line must name the columns {}",
            missing.join(","),
            names()
        )));
    }
    Ok(columns)
}

struct Parser<'c> {
    checklist: &'c Checklist,
    max_problems: u32,
    /// Respondents in the order of their first row.
    order: Vec<(String, String)>,
    respondents: HashMap<(String, String), Gathering>,
    errors: Vec<String>,
}

impl Parser<'_> {
    /// Adds one row to its respondent, or says what is wrong with it (and marks the
    /// respondent as having a bad row).
    fn row(&mut self, line: u64, row: &Row) -> std::result::Result<(), String> {
        let respondent = row.get("respondent");
        check_field("respondent", respondent, true)?;
        let wave = row.get("wave");
        wave.parse::<WaveLabel>().map_err(|e| e.to_string())?;
        let key = (wave.to_string(), respondent.to_string());
        if !self.respondents.contains_key(&key) {
            self.order.push(key.clone());
            self.respondents.insert(
                key.clone(),
                Gathering {
                    first_line: line,
                    segment: row.get("segment").to_string(),
                    audience: row.get("audience").to_string(),
                    items: vec![None; self.checklist.items.len()],
                    write_ins: Vec::new(),
                    bad: false,
                },
            );
        }
        let (checklist, max_problems) = (self.checklist, self.max_problems);
        let who = format!("respondent {respondent:?} (wave {wave})");
        let gathering = self.respondents.get_mut(&key).expect("inserted above");
        let added = gathering.add(checklist, max_problems, &who, line, row);
        if added.is_err() {
            gathering.bad = true;
        }
        added
    }

    /// Every respondent without errors, whole; a respondent who left an item out
    /// is an error at their first line.
    fn finish(mut self) -> (Vec<ImportedChecklist>, usize, Vec<String>) {
        let mut good = Vec::new();
        let mut bad = 0;
        for key in &self.order {
            let g = self
                .respondents
                .remove(key)
                .expect("every key has its respondent");
            let missing: Vec<&str> = g
                .items
                .iter()
                .zip(&self.checklist.items)
                .filter(|(answer, _)| answer.is_none())
                .map(|(_, item)| item.id.as_str())
                .collect();
            if !missing.is_empty() && !g.bad {
                self.errors.push(format!(
                    "line {}: respondent {:?} (wave {}) has no row for item(s) {}; every item of the checklist needs one (never, sometimes or often)",
                    g.first_line,
                    key.1,
                    key.0,
                    missing.join(", ")
                ));
            }
            if g.bad || !missing.is_empty() {
                bad += 1;
                continue;
            }
            good.push(g.into_imported(key));
        }
        // Lines in order, however they were found.
        self.errors.sort_by_key(|e| line_of(e));
        (good, bad, self.errors)
    }
}

/// An audience as the file names it: empty is customer.
fn audience_of(text: &str) -> std::result::Result<&'static str, String> {
    match text {
        "" | CUSTOMER => Ok(CUSTOMER),
        STAFF => Ok(STAFF),
        other => Err(format!(
            "audience {other:?} is not customer or staff (empty: customer)"
        )),
    }
}

fn line_of(error: &str) -> u64 {
    error
        .strip_prefix("line ")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl Gathering {
    fn add(
        &mut self,
        checklist: &Checklist,
        max_problems: u32,
        who: &str,
        line: u64,
        row: &Row,
    ) -> std::result::Result<(), String> {
        let segment = row.get("segment");
        check_field("segment", segment, false)?;
        let audience = audience_of(row.get("audience"))?;
        let first_audience = audience_of(&self.audience).unwrap_or(CUSTOMER);
        if segment != self.segment {
            return Err(format!(
                "{who} is in segment {segment:?} here but {:?} on line {}",
                self.segment, self.first_line
            ));
        }
        if audience != first_audience {
            return Err(format!(
                "{who} is in audience {audience} here but {first_audience} on line {}",
                self.first_line
            ));
        }
        if row.get("item").is_empty() {
            self.add_write_in(max_problems, who, line, row)
        } else {
            self.add_item(checklist, who, line, row)
        }
    }

    fn add_item(
        &mut self,
        checklist: &Checklist,
        who: &str,
        line: u64,
        row: &Row,
    ) -> std::result::Result<(), String> {
        let id = row.get("item");
        let Some(index) = checklist.items.iter().position(|i| i.id.as_str() == id) else {
            let known: Vec<&str> = checklist.items.iter().map(|i| i.id.as_str()).collect();
            return Err(format!(
                "item {id:?} is not in this checklist; its items are {}",
                known.join(", ")
            ));
        };
        if !row.get("rank").is_empty() || !row.get("problem").is_empty() {
            return Err(
                "a row answers an item or writes in another problem, not both: leave rank and problem empty on an item's row"
                    .into(),
            );
        }
        if let Some((earlier, _)) = &self.items[index] {
            return Err(format!(
                "{who} already answered item {id:?} on line {earlier}"
            ));
        }
        let experienced: Experienced = match row.get("experienced") {
            "" => {
                return Err(format!(
                    "item {id:?} has no answer in experienced (never, sometimes or often)"
                ))
            }
            text => text.parse().map_err(|e| format!("experienced {e}"))?,
        };
        let bother = match row.get("bother") {
            "" => None,
            text => Some(text.parse::<Bother>()?),
        };
        let solved = match row.get("solved_elsewhere") {
            "" => None,
            _ if !checklist.ask_solved_elsewhere => {
                return Err("solved_elsewhere is given, but this checklist does not ask it (ask_solved_elsewhere in checklist.toml); leave it empty".into())
            }
            text => Some(
                text.parse::<SolvedElsewhere>()
                    .map_err(|e| format!("solved_elsewhere {e}"))?,
            ),
        };
        let item = checklist.items[index].id.clone();
        let answer = ItemAnswer::new(item, None, experienced, bother, solved)
            .map_err(|e| format!("item {id:?}, {experienced}: {e}"))?;
        self.items[index] = Some((line, answer));
        Ok(())
    }

    fn add_write_in(
        &mut self,
        max_problems: u32,
        who: &str,
        line: u64,
        row: &Row,
    ) -> std::result::Result<(), String> {
        for column in ["experienced", "bother", "solved_elsewhere"] {
            if !row.get(column).is_empty() {
                return Err(format!(
                    "{column} is given but item is empty; name the item the answer is for"
                ));
            }
        }
        let (rank, problem) = (row.get("rank"), row.get("problem"));
        if problem.is_empty() {
            return Err(
                "the row names no item and no problem; an item's row needs item and experienced, another problem's row rank and problem"
                    .into(),
            );
        }
        let rank = crate::answer::import::ranked_problem(
            rank,
            problem,
            max_problems,
            " of the other problem",
        )?;
        if let Some((_, earlier, _)) = self.write_ins.iter().find(|(r, _, _)| *r == rank) {
            return Err(format!(
                "{who} already has other problem rank {rank} on line {earlier}"
            ));
        }
        self.write_ins.push((rank, line, problem.to_string()));
        Ok(())
    }

    fn into_imported(mut self, (wave, respondent): &(String, String)) -> ImportedChecklist {
        self.write_ins.sort_by_key(|(rank, _, _)| *rank);
        ImportedChecklist {
            respondent: respondent.clone(),
            wave: wave.parse().expect("checked when its first row was read"),
            segment: (!self.segment.is_empty()).then_some(self.segment),
            audience: audience_of(&self.audience).expect("checked with every row"),
            items: self.items.into_iter().flatten().map(|(_, a)| a).collect(),
            write_ins: self
                .write_ins
                .into_iter()
                .map(|(_, _, text)| text)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checklist() -> Checklist {
        let survey = crate::survey::Survey::shipped("checklist").unwrap();
        Checklist::parse(
            "checklist.toml",
            survey.file("checklist.toml").unwrap(),
            &survey.locales,
        )
        .unwrap()
    }

    const HEADER: &str =
        "respondent,wave,segment,audience,item,experienced,bother,solved_elsewhere,rank,problem\n";

    fn whole(respondent: &str, audience: &str) -> String {
        format!(
            "{respondent},w1,lost,{audience},late-delivery,often,5,no,,\n\
             {respondent},w1,lost,{audience},damaged-goods,never,,,,\n\
             {respondent},w1,lost,{audience},invoice-errors,sometimes,2,,,\n\
             {respondent},w1,lost,{audience},hard-to-reach,never,,,,\n"
        )
    }

    fn parsed(csv: &str) -> (Vec<ImportedChecklist>, usize, Vec<String>) {
        parse(std::io::Cursor::new(csv), "c.csv", &checklist(), 3).unwrap()
    }

    #[test]
    fn rows_become_whole_answers_with_write_ins_in_rank_order() {
        let csv = format!(
            "{HEADER}{}p1,w1,lost,,,,,,2,Parking\np1,w1,lost,,,,,,1,Rude driver\n{}",
            whole("p1", ""),
            whole("s1", "staff")
        );
        let (rows, bad, errors) = parsed(&csv);
        assert_eq!((bad, errors.len()), (0, 0), "{errors:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].audience, CUSTOMER);
        assert_eq!(rows[0].segment.as_deref(), Some("lost"));
        assert_eq!(rows[0].items.len(), 4);
        assert_eq!(rows[0].items[0].bother.map(Bother::get), Some(5));
        assert_eq!(rows[0].write_ins, ["Rude driver", "Parking"]);
        assert_eq!(rows[1].audience, STAFF);
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_leave_their_respondent_out() {
        let csv = format!(
            "{HEADER}{}p1,w1,lost,,parking,often,4,,,\n\
             p2,w1,lost,,late-delivery,never,3,,,\n\
             {}p3,w1,lost,,late-delivery,never,,,,\n\
             p4,w1,lost,,late-delivery,often,,,,\n\
             p5,w1,lost,boss,late-delivery,never,,,,\n",
            whole("p1", ""),
            whole("p3", "")
        );
        let (rows, bad, errors) = parsed(&csv);
        assert!(rows.is_empty(), "{rows:?}");
        assert_eq!(bad, 5);
        assert!(
            errors[0].starts_with(
                "line 6: item \"parking\" is not in this checklist; its items are late-delivery"
            ),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("line 7: item \"late-delivery\", never: how much it bothers"),
            "{errors:?}"
        );
        assert!(errors[2].starts_with("line 12: respondent \"p3\" (wave w1) already answered item \"late-delivery\" on line 8"), "{errors:?}");
        assert!(errors[3].starts_with("line 13: item \"late-delivery\", often: sometimes or often needs how much it bothers"), "{errors:?}");
        assert!(
            errors[4].starts_with("line 14: audience \"boss\""),
            "{errors:?}"
        );
        assert_eq!(
            errors.len(),
            5,
            "p2 and p4 also miss items, but their bad row says enough: {errors:?}"
        );
    }

    #[test]
    fn a_respondent_without_every_item_is_named_with_the_items_missing() {
        let csv = format!("{HEADER}p1,w1,,,late-delivery,never,,,,\n");
        let (rows, bad, errors) = parsed(&csv);
        assert!(rows.is_empty());
        assert_eq!(bad, 1);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("line 2: respondent \"p1\" (wave w1) has no row for item(s) damaged-goods, invoice-errors, hard-to-reach"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_discovery_columns_are_refused_with_the_checklist_columns_named() {
        let err = parse(
            std::io::Cursor::new("respondent,wave,segment,rank,problem\n"),
            "c.csv",
            &checklist(),
            3,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("missing column(s) item,experienced"),
            "{err}"
        );
    }
}
