//! Every template of a survey rendered against sample data before the survey is
//! stored, so a misspelt variable is reported now rather than in a customer's
//! inbox.

use super::{merge, Locale, Survey, SurveyKind, EXPERIENCED, FREQUENCIES, SOLVED_ELSEWHERE};

impl Survey {
    /// Renders every template against sample data, so a misspelt variable is
    /// reported now rather than in a customer's inbox.
    pub(super) fn check_renders(&self, problems: &mut Vec<String>) {
        for &locale in &self.locales {
            let sample = sample_contexts(self, locale);
            for (name, extra) in sample {
                if !self.has_email(locale, name) {
                    continue;
                }
                let result = if EMAILS.contains(&name) {
                    self.render_email(locale, name, extra).map(|_| ())
                } else {
                    self.render_page(locale, name, extra).map(|_| ())
                };
                if let Err(e) = result {
                    problems.push(e.to_string());
                }
            }
            for key in self.kind.message_keys() {
                self.templates.check_message(
                    locale,
                    key,
                    &serde_json::json!({"max": 1000, "rank": 2, "label": "Late delivery"}),
                    problems,
                );
            }
        }
    }
}

/// A filled-in form slot for checking templates before a survey is stored: the
/// shape of the slots the answer room gives the form template.
fn sample_slot(index: u32, max_problems: u32) -> serde_json::Value {
    serde_json::json!({
        "index": index,
        "text": "Leveransen kom två veckor för sent <script>",
        "error": if index == 1 { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "rank_options": (1..=max_problems).map(|v| serde_json::json!({"value": v, "selected": v == index})).collect::<Vec<_>>(),
        "frequency_options": FREQUENCIES.iter().map(|f| serde_json::json!({"value": f, "selected": false})).collect::<Vec<_>>(),
        "consent": index == 1,
        "text_error": if index == 1 { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "rank_error": if index == 2 { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "rank": index,
        "hidden": index > 2,
        "most_important": index == 1,
        "chars": 42,
        "over": false,
        "can_move_up": index == 2,
        "can_move_down": index == 1,
        "focus_text": index == 2,
        "focus_up": false,
        "focus_down": false,
    })
}

/// A checklist item as the checklist form template sees it (docs/TEMPLATES.md).
fn sample_item(index: u32, with_error: bool) -> serde_json::Value {
    let options = |values: &[&str], chosen: &str| {
        values
            .iter()
            .map(|v| serde_json::json!({"value": v, "selected": *v == chosen}))
            .collect::<Vec<_>>()
    };
    serde_json::json!({
        "index": index,
        "id": format!("item-{index}"),
        "text": "Leveransen kom senare än utlovat <b>",
        "group": "delivery",
        "first_in_group": index == 1,
        "section": 1,
        "error": if with_error { serde_json::Value::from("sample error") } else { serde_json::Value::Null },
        "experienced_options": options(&EXPERIENCED, "sometimes"),
        "bother_options": options(&["1", "2", "3", "4", "5"], "4"),
        "solved_options": options(&SOLVED_ELSEWHERE, ""),
    })
}

fn sample_contexts(survey: &Survey, _locale: Locale) -> Vec<(&'static str, serde_json::Value)> {
    let slots: Vec<_> = (1..=survey.max_problems)
        .map(|i| sample_slot(i, survey.max_problems))
        .collect();
    let addressee = serde_json::json!({
        "contact": {"name": "Anna Åberg", "email": "anna@example.com"},
        "link": "https://example.com/s/x",
        "wave": "2026-H2",
        "unsubscribe_link": "https://example.com/u/x",
    });
    let mut reminder = addressee.clone();
    merge(&mut reminder, serde_json::json!({"reminder_number": 1}));
    let form = match survey.kind {
        SurveyKind::Discovery => serde_json::json!({
            "contact": {"name": "Anna Åberg"},
            "action": "/s/x",
            "answered_before": true,
            "no_problems": false,
            "has_errors": true,
            "form_errors": ["sample"],
            "errors": [{"href": "#problem_1", "text": "sample"}],
            "had_problems": true,
            "boxes": 2,
            "can_add": true,
            "max_text": 1000,
            "slots": slots,
        }),
        SurveyKind::Checklist => serde_json::json!({
            "contact": {"name": "Anna Åberg"},
            "action": "/s/x",
            "answered_before": true,
            "has_errors": true,
            "form_errors": ["sample"],
            "ask_solved_elsewhere": true,
            "items": [sample_item(1, true), sample_item(2, false)],
            "sections": 1,
            "total": 2,
            "answered": 1,
            "slots": slots,
        }),
    };
    vec![
        ("invitation", addressee),
        ("form", form),
        (
            "thanks",
            serde_json::json!({
                "contact": {"name": "Anna Åberg"},
                "no_problems": false,
                "mentions": [{"rank": 1, "text": "sample"}],
                "edit_link": "/s/x",
                "already_answered": false,
            }),
        ),
        ("closed", serde_json::json!({})),
        ("reminder", reminder),
        (
            "complaint",
            serde_json::json!({
                "team": {"name": "Logistics"},
                "complaint": {"text": "Leveransen kom <b>för sent</b>", "snippet": "Leveransen kom <b>för sent</b>", "area": "Late delivery", "rank": 1, "of": 3, "frequency": "often", "rule": "late", "why": "keyword \"leverans*\"", "reference": "K7M2QX4P",
                    "reasons": [
                        {"kind": "keyword", "keyword": "leverans*", "matched": "leveransen", "area": null, "rank": null, "max": null, "label": null, "value": null},
                        {"kind": "segment", "keyword": null, "matched": null, "area": null, "rank": null, "max": null, "label": "Customer type", "value": "current"},
                    ]},
                "answer": {"locale": "sv", "date": "2026-12-01"},
                "dashboard": {"url": "https://example.com/admin/cases/K7M2QX4P"},
                "reply_reaches_customer": true,
                "segments": [{"key": "customer_type", "value": "current", "label": "Customer type", "value_label": "current"}],
                "wave": "2026-H2",
                "customer": {"name": "Anna Åberg", "email": "anna@example.com"},
                "actions": {"acknowledge": "https://example.com/c/a", "resolve": "https://example.com/c/r", "decline": "https://example.com/c/d"},
            }),
        ),
        (
            "followup",
            serde_json::json!({
                "contact": {"name": "Anna Åberg"},
                "complaint": {"text": "Leveransen kom <b>för sent</b>", "rank": 1},
                "note": "Vi har bytt <i>transportör</i>.",
                "team": {"name": "Logistics"},
                "wave": "2026-H2",
            }),
        ),
        (
            "announcement",
            serde_json::json!({
                "contact": {"name": "Anna Åberg"},
                "announcements": [{"area": "Late <b>delivery</b>", "text": "We changed <i>carriers</i>."}],
                "waves": ["2026-H2"],
                "unsubscribe_link": "https://example.com/u/x",
            }),
        ),
        ("unsubscribe", serde_json::json!({"action": "/u/x"})),
        ("unsubscribed", serde_json::json!({})),
    ]
}

/// The emails a survey folder has templates for.
const EMAILS: [&str; 5] = [
    "invitation",
    "reminder",
    "complaint",
    "followup",
    "announcement",
];
