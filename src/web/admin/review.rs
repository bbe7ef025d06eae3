//! Coding review in the dashboard: an area's page (its figures, the customers' words
//! grouped by identical text with rank, segment and answer date), the decisions an
//! analyst makes there, and coding the answers that arrived since the last run.
//!
//! A merge or a move is asked for, then confirmed on the same page (plain forms, no
//! JavaScript needed); once made, the page says what was done and offers an undo,
//! which is itself a decision in the log (`unmerge`, `unmove`). A decision that
//! cannot be made is shown on the page it came from, in words.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::ViewQuery;
use super::pages::{forbidden, form_fields, live_area_ids, session_json, survey_results};
use super::title_of;
use super::{find_survey, render, Analyst, Answer, AreaRequest, Session};
use crate::coding::review::{review, AreaReview};
use crate::coding::store::{self as coding, Decision, StoredMention};
use crate::coding::{GroupingOptions, MentionText};
use crate::error::{Error, Result};
use crate::report::context::{self, MentionContext};
use crate::survey::{StoredSurvey, SurveySlug};
use crate::web::AppState;

/// Mention ids an undo link carries at most; a larger move is undone by hand.
const UNDO_AT_MOST: usize = 500;

/// What the area page says after a decision (`?done=...`), and what undoes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
    /// The merged area (after a merge), or the area mentions came from (after a move).
    from: Option<i64>,
    /// The mentions moved, comma-separated.
    moved: Option<String>,
}

pub(super) async fn area(area: AreaRequest, done: web::Query<Done>) -> HttpResponse {
    let AreaRequest { analyst, slug, id } = area;
    analyst
        .show_page(move |state, s| {
            let outcome = Outcome::Done(done.into_inner());
            area_page(state, s, &slug, id, &outcome)
        })
        .await
}

/// What the area page shows above the figures.
enum Outcome {
    /// After a redirect: what a decision did.
    Done(Done),
    /// A merge or move waiting for confirmation.
    Confirm(Value),
    /// A decision that could not be made.
    Failed(String),
}

fn area_page(
    state: &AppState,
    session: &Session,
    slug: &str,
    id: i64,
    outcome: &Outcome,
) -> Result<String> {
    let slug: SurveySlug = slug.parse()?;
    let (survey, results) = survey_results(state, &slug, &ViewQuery::default())?;
    let mut conn = state.db.conn()?;
    let areas = coding::areas_of(&mut conn, survey.id)?;
    let Some(area) = areas.iter().find(|a| a.id == id) else {
        return Err(Error::NotFound(format!("area {id}")));
    };
    let label_of = |id: i64| areas.iter().find(|a| a.id == id).map(|a| a.label.clone());
    let figures = results.areas.iter().find(|a| a.area == area.label);
    let all = coding::mentions_of(&mut conn, survey.id)?;
    let live = live_area_ids(&areas);
    let suggestions = Suggestions::of(&all, &areas, &live, id);
    let mentions: Vec<StoredMention> = all.into_iter().filter(|m| m.area_id == Some(id)).collect();
    let ids: Vec<i64> = mentions.iter().map(|m| m.id).collect();
    let contexts = context::of_mentions(&mut conn, &ids)?;
    let others: Vec<Value> = areas
        .iter()
        .filter(|a| a.id != id && live.contains_key(&a.label))
        .map(|a| json!({"id": a.id, "label": a.label}))
        .collect();
    let (notice, confirm, error) = match outcome {
        Outcome::Done(done) => (notice(done, &label_of), None, None),
        Outcome::Confirm(c) => (None, Some(c.clone()), None),
        Outcome::Failed(m) => (None, None, Some(m.clone())),
    };
    render(
        "area",
        &json!({
            "session": session_json(session),
            "survey": {"slug": survey.slug, "title": title_of(&survey)},
            "results": {
                "n": results.n,
                "method": results.method,
                "frequency_method": results.frequency_method,
                "importance_method": results.importance_method,
                "rank_stability": results.rank_stability,
            },
            "area": {
                "id": area.id,
                "label": area.label,
                "origin": area.origin,
                "status": area.status,
                "team": area.team,
                "merged": area.merged_into.is_some() || area.status == coding::MERGED,
            },
            "figures": figures,
            "mention_count": mentions.len(),
            "groups": grouped(&mentions, &contexts, &suggestions),
            "words": suggestions.review.words,
            "similar": suggestions.similar(),
            "others": others,
            "notice": notice,
            "confirm": confirm,
            "error": error,
        }),
    )
}

/// The mentions with identical text (spacing aside) as one row each, most
/// frequent first, then in order of arrival.
fn grouped(
    mentions: &[StoredMention],
    contexts: &HashMap<i64, MentionContext>,
    suggestions: &Suggestions,
) -> Vec<Value> {
    let mut groups: BTreeMap<String, Vec<&StoredMention>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for m in mentions {
        let key = m.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let entry = groups.entry(key.clone()).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(m);
    }
    order.sort_by_key(|k| std::cmp::Reverse(groups[k].len()));
    order
        .iter()
        .map(|key| {
            let members = &groups[key];
            let found: Vec<&MentionContext> =
                members.iter().filter_map(|m| contexts.get(&m.id)).collect();
            let mut ranks: Vec<i32> = found.iter().map(|c| c.rank).collect();
            ranks.sort_unstable();
            ranks.dedup();
            let mut segments: Vec<String> = found
                .iter()
                .flat_map(|c| c.attributes.iter().map(|(k, v)| format!("{k}: {v}")))
                .collect();
            segments.sort();
            segments.dedup();
            let latest = found.iter().map(|c| c.answered_at).max();
            let first = members[0];
            let ids = members
                .iter()
                .map(|m| m.id.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let why = suggestions.of_mention(first.id);
            json!({
                "why": why.as_ref().map(|w| &w.0),
                "suggestion": why.and_then(|w| w.1).map(|better| json!({
                    "value": format!("{ids}:{}", better.0),
                    "label": better.1,
                    "similarity": format!("{:.2}", better.2),
                    "words": better.3,
                })),
                "ids": ids,
                "first_id": first.id,
                "text": first.text,
                "count": members.len(),
                "ranks": ranks.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
                "segments": segments.join("; "),
                "answered": latest.map(|t| t.format("%Y-%m-%d").to_string()),
                "coded_by": first.coded_by,
                "note": first.note,
            })
        })
        .collect()
}

/// What the page says after a decision, with the undo form's fields.
fn notice(done: &Done, label_of: &dyn Fn(i64) -> Option<String>) -> Option<Value> {
    let kind = done.done.as_deref()?;
    let from = done.from.and_then(label_of);
    let moved: Vec<&str> = done
        .moved
        .as_deref()
        .map(|m| m.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    Some(json!({
        "kind": kind,
        "from": done.from,
        "from_label": from,
        "moved": moved,
        "count": moved.len(),
    }))
}

/// A coding decision from the area page: rename; merge into another area, or move
/// ticked mentions to another one (each confirmed first); undo a merge or a move.
/// Applied as `pds areas` applies it, then back to a page (post/redirect/get).
pub(super) async fn decide(area: AreaRequest, body: web::Bytes) -> HttpResponse {
    let AreaRequest { analyst, slug, id } = area;
    analyst
        .answer_form(&body, move |state, s, fields| {
            let request = Request::read(&fields, id);
            let page = |outcome: Outcome| area_page(state, s, &slug, id, &outcome);
            let request = match request {
                Ok(r) => r,
                Err(message) => {
                    return Ok(Answer::Page(
                        StatusCode::BAD_REQUEST,
                        page(Outcome::Failed(message))?,
                    ))
                }
            };
            let survey = find_survey(state, &slug)?;
            if !request.confirmed && request.needs_confirmation() {
                let question = request.question(state, &survey, id)?;
                return Ok(Answer::Page(
                    StatusCode::OK,
                    page(Outcome::Confirm(question))?,
                ));
            }
            match coding::decide(&state.db, &survey, &request.decision) {
                Ok(_) => Ok(Answer::Redirect(request.after(&survey, id))),
                Err(Error::Invalid(m)) => Ok(Answer::Page(
                    StatusCode::BAD_REQUEST,
                    page(Outcome::Failed(m))?,
                )),
                Err(e) => Err(e),
            }
        })
        .await
}

/// A better area for a mention: id, label, similarity, shared words.
type Better = (i64, String, f32, String);

/// What the review suggests on an area's page (see `coding::review`), with the
/// stored areas its indices stand for.
struct Suggestions {
    review: AreaReview,
    /// Stored area id and label of each review index.
    areas: Vec<(i64, String)>,
    /// Review index of each mention of the area, by mention id.
    index_of: HashMap<i64, usize>,
}

impl Suggestions {
    fn of(
        all: &[StoredMention],
        areas: &[coding::StoredArea],
        live: &HashMap<String, i64>,
        focus: i64,
    ) -> Suggestions {
        let mut listed: Vec<(i64, String)> = areas
            .iter()
            .filter(|a| live.get(&a.label) == Some(&a.id) || a.id == focus)
            .map(|a| (a.id, a.label.clone()))
            .collect();
        listed.dedup_by_key(|a| a.0);
        let slot: HashMap<i64, usize> = listed.iter().enumerate().map(|(i, a)| (a.0, i)).collect();
        let texts: Vec<MentionText<'_>> = all
            .iter()
            .map(|m| MentionText::new(&m.text, m.locale))
            .collect();
        let area_of: Vec<Option<usize>> = all
            .iter()
            .map(|m| m.area_id.and_then(|a| slot.get(&a).copied()))
            .collect();
        let index_of = all
            .iter()
            .filter(|m| m.area_id == Some(focus))
            .enumerate()
            .map(|(i, m)| (m.id, i))
            .collect();
        let review = match slot.get(&focus) {
            Some(&f) => review(&texts, &area_of, listed.len(), f),
            None => AreaReview::default(),
        };
        Suggestions {
            review,
            areas: listed,
            index_of,
        }
    }

    /// Why a mention is here, in words, and a better area (id, label,
    /// similarity, shared words) when the review sees one.
    fn of_mention(&self, mention: i64) -> Option<(String, Option<Better>)> {
        let r = self.review.mentions.get(*self.index_of.get(&mention)?)?;
        let words = if r.words.is_empty() {
            "no typical word of this area".to_string()
        } else {
            format!("shares {}", r.words.join(", "))
        };
        let why = format!("similarity {:.2} to this area; {words}", r.similarity);
        let better = r.better.as_ref().map(|b| {
            let (id, label) = self.areas[b.area].clone();
            (id, label, b.similarity, b.words.join(", "))
        });
        Some((why, better))
    }

    /// Areas like this one, to merge into, with the similarity and shared words.
    fn similar(&self) -> Vec<Value> {
        self.review
            .similar
            .iter()
            .map(|s| {
                let (id, label) = &self.areas[s.area];
                json!({
                    "id": id,
                    "label": label,
                    "similarity": format!("{:.2}", s.similarity),
                    "words": s.words.join(", "),
                })
            })
            .collect()
    }
}

/// A decision as the form asked for it.
struct Request {
    decision: Decision,
    confirmed: bool,
}

impl Request {
    /// The decision of a form posted on area `id`'s page, or what is wrong with it.
    fn read(fields: &[(String, String)], id: i64) -> std::result::Result<Request, String> {
        let field = |name: &str| super::pages::field(fields, name);
        let area = |name: &str| -> std::result::Result<i64, String> {
            field(name)
                .parse()
                .map_err(|_| "Choose an area from the list.".to_string())
        };
        let mentions: Vec<i64> = fields
            .iter()
            .filter(|(k, _)| k == "mention")
            .flat_map(|(_, v)| {
                v.split(',')
                    .filter_map(|m| m.trim().parse().ok())
                    .collect::<Vec<_>>()
            })
            .collect();
        let ticked = || {
            if mentions.is_empty() {
                Err("Nothing was moved: tick at least one mention in the list, then choose where it goes.".to_string())
            } else {
                Ok(mentions.clone())
            }
        };
        // A suggested move is one click: its button carries `MENTIONS:AREA`.
        if let Some((ids, to)) = field("suggested").split_once(':') {
            let mentions: Vec<i64> = ids
                .split(',')
                .filter_map(|m| m.trim().parse().ok())
                .collect();
            let to = to
                .parse()
                .map_err(|_| "Choose an area from the list.".to_string())?;
            if mentions.is_empty() {
                return Err("The suggestion names no mention; reload the page.".to_string());
            }
            return Ok(Request {
                decision: Decision::Move { mentions, to },
                confirmed: true,
            });
        }
        let decision = match field("action").as_str() {
            "rename" => Decision::Rename {
                area: id,
                label: field("label"),
            },
            "merge" => Decision::Merge {
                from: id,
                into: area("into")?,
            },
            "move" => Decision::Move {
                mentions: ticked()?,
                to: area("to")?,
            },
            "accept" => Decision::Accept { areas: vec![id] },
            "unmerge" => Decision::Unmerge {
                area: area("area")?,
            },
            "unmove" => Decision::Unmove {
                mentions: ticked()?,
                to: id,
            },
            other => {
                return Err(format!(
                    "The form asked for {other:?}, which the dashboard does not know."
                ))
            }
        };
        Ok(Request {
            decision,
            confirmed: field("confirmed") == "yes",
        })
    }

    fn needs_confirmation(&self) -> bool {
        matches!(
            self.decision,
            Decision::Merge { .. } | Decision::Move { .. }
        )
    }

    /// What the confirmation step asks, with the fields that confirm it.
    fn question(&self, state: &AppState, survey: &StoredSurvey, id: i64) -> Result<Value> {
        let areas = coding::areas_of(&mut *state.db.conn()?, survey.id)?;
        let label = |wanted: i64| {
            areas
                .iter()
                .find(|a| a.id == wanted)
                .map(|a| a.label.clone())
                .ok_or_else(|| Error::NotFound(format!("area {wanted}")))
        };
        Ok(match &self.decision {
            Decision::Merge { into, .. } => json!({
                "action": "merge", "into": into, "into_label": label(*into)?, "from_label": label(id)?,
            }),
            Decision::Move { mentions, to } => json!({
                "action": "move", "to": to, "to_label": label(*to)?,
                "mentions": mentions, "count": mentions.len(),
            }),
            _ => Value::Null,
        })
    }

    /// Where the browser goes once the decision is made.
    fn after(&self, survey: &StoredSurvey, id: i64) -> String {
        let page = |area: i64| format!("/admin/surveys/{}/areas/{area}", survey.slug);
        match &self.decision {
            Decision::Merge { from, into } => format!("{}?done=merge&from={from}", page(*into)),
            Decision::Move { mentions, .. } if mentions.len() <= UNDO_AT_MOST => {
                let moved: Vec<String> = mentions.iter().map(i64::to_string).collect();
                format!("{}?done=move&moved={}", page(id), moved.join(","))
            }
            Decision::Move { .. } => format!("{}?done=move", page(id)),
            Decision::Unmerge { area } => format!("{}?done=unmerge", page(*area)),
            Decision::Unmove { .. } => format!("{}?done=unmove", page(id)),
            Decision::Accept { .. } => format!("{}?done=accept", page(id)),
            _ => format!("{}?done=rename", page(id)),
        }
    }
}

/// Codes the answers that arrived since coding last ran, as `pds code` does (one
/// heavy turn), then back to the survey page.
pub(super) async fn code(
    analyst: Analyst,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if form_fields(&body, &analyst.session).is_none() {
        return forbidden(&analyst.session);
    }
    let state = analyst.state.clone();
    let _turn = state.heavy_turn().await;
    analyst
        .answer(move |state, _| {
            let survey = find_survey(state, &path)?;
            let run =
                coding::code_survey(&state.db, &survey, &GroupingOptions::default(), &|_, _| {})?;
            Ok(Answer::Redirect(format!(
                "/admin/surveys/{}?coded={}",
                survey.slug, run.changed
            )))
        })
        .await
}
