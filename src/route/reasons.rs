//! What a team's email says about a complaint besides the words: why its rule
//! fired and the customer's attributes, as data the templates put in their own
//! language (never the English of `pds route test`, never raw attribute codes),
//! and the dashboard link.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::rules::{Reason, Routing};
use crate::config::Settings;
use crate::survey::Locale;

/// The reasons as the templates see them: every object has every key (`kind` is
/// `keyword`, `area`, `rank` or `segment`; the others are null where they do not
/// apply), so a template in strict mode can test `kind` and print the rest.
pub(super) fn for_template(routing: &Routing, locale: Locale, reasons: &[Reason]) -> Vec<Value> {
    reasons
        .iter()
        .map(|r| {
            let mut v = json!({
                "kind": null, "keyword": null, "matched": null, "area": null,
                "rank": null, "max": null, "label": null, "value": null,
            });
            let fields = match r {
                Reason::Keyword { keyword, matched } => {
                    json!({"kind": "keyword", "keyword": keyword, "matched": matched})
                }
                Reason::Area { area } => json!({"kind": "area", "area": area}),
                Reason::Rank { rank, max } => json!({"kind": "rank", "rank": rank, "max": max}),
                Reason::Segment { key, value } => json!({
                    "kind": "segment",
                    "label": routing.attribute_label(locale, key),
                    "value": routing.value_label(locale, key, value),
                }),
            };
            if let (Some(o), Value::Object(f)) = (v.as_object_mut(), fields) {
                o.extend(f);
            }
            v
        })
        .collect()
}

/// The customer's attributes with readable names and values (`[labels]` in
/// routing.toml); `key` and `value` keep the codes for templates written before.
pub(super) fn segments(
    routing: &Routing,
    locale: Locale,
    segments: &BTreeMap<String, String>,
) -> Vec<Value> {
    segments
        .iter()
        .map(|(k, v)| {
            json!({
                "key": k,
                "value": v,
                "label": routing.attribute_label(locale, k),
                "value_label": routing.value_label(locale, k, v),
            })
        })
        .collect()
}

/// The dashboard link for one complaint: its case's page, found by the case's
/// reference (the email is written before the case row has its number).
pub(super) fn dashboard_case(settings: &Settings, reference: &str) -> Value {
    json!({"url": settings.link(&format!("/admin/cases/{reference}"))})
}

/// The dashboard link for an email listing several cases: the list of cases.
pub(super) fn dashboard_cases(settings: &Settings) -> Value {
    json!({"url": settings.link("/admin/cases")})
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTING: &str = r#"
[teams.ops]
name = "Ops"
emails = ["ops@example.com"]

[[rules]]
name = "r"
keywords = ["late"]
segment = { customer_type = "current", key_account = "yes" }
teams = ["ops"]

[labels.sv]
customer_type = "Kundtyp"
"customer_type.current" = "befintlig kund"
"#;

    #[test]
    fn attributes_read_as_words_in_the_emails_language() {
        let routing = Routing::parse(ROUTING, "routing.toml").unwrap();
        let reasons = [
            Reason::Segment {
                key: "customer_type".into(),
                value: "current".into(),
            },
            Reason::Segment {
                key: "key_account".into(),
                value: "yes".into(),
            },
        ];
        let sv = for_template(&routing, Locale::Sv, &reasons);
        assert_eq!(sv[0]["label"], "Kundtyp");
        assert_eq!(sv[0]["value"], "befintlig kund");
        assert_eq!(
            sv[1]["label"], "Key account",
            "no label: the key made readable"
        );
        let en = for_template(&routing, Locale::En, &reasons);
        assert_eq!(en[0]["label"], "Customer type");
        assert_eq!(en[0]["value"], "current");
        assert!(en[0]["keyword"].is_null(), "every key is there");
    }
}
