//! The emails and chat messages a team gets besides the complaint email itself,
//! in the team's language: the daily digest, SLA reminders and escalations
//! (`survey-templates/team/{locale}/cases.*.hbs`), and the text a Slack or Teams
//! webhook shows (`chat.txt.hbs`). Shipped with the engine, the same for every
//! survey. Strict mode: a misspelt variable is an error (the unit test renders
//! every template).

use std::sync::LazyLock;

use handlebars::Handlebars;

use crate::error::{Error, Result};
use crate::survey::{Locale, Rendered, SHIPPED_TEMPLATES};

struct Registries {
    /// Subjects and plain text: not escaped.
    text: Handlebars<'static>,
    /// HTML parts: escaped.
    html: Handlebars<'static>,
}

static TEMPLATES: LazyLock<std::result::Result<Registries, String>> = LazyLock::new(compile);

fn compile() -> std::result::Result<Registries, String> {
    let mut text = Handlebars::new();
    text.set_strict_mode(true);
    text.register_escape_fn(handlebars::no_escape);
    let mut html = Handlebars::new();
    html.set_strict_mode(true);
    for locale in Locale::ALL {
        let dir = format!("team/{locale}");
        let folder = SHIPPED_TEMPLATES
            .get_dir(&dir)
            .ok_or_else(|| format!("survey-templates/{dir} is missing"))?;
        for file in folder.files() {
            let name = file.path().to_string_lossy().replace('\\', "/");
            let source = file
                .contents_utf8()
                .ok_or_else(|| format!("{name} is not UTF-8"))?;
            let registry = if is_html(&name) { &mut html } else { &mut text };
            registry
                .register_template_string(&name, source)
                .map_err(|e| format!("survey-templates/{name}: {e}"))?;
        }
    }
    Ok(Registries { text, html })
}

/// HTML parts are escaped; subjects and plain text are not.
fn is_html(file: &str) -> bool {
    file.ends_with(".html.hbs")
}

fn registries() -> Result<&'static Registries> {
    TEMPLATES.as_ref().map_err(|e| Error::Internal(e.clone()))
}

fn render(hb: &Handlebars<'static>, name: &str, ctx: &serde_json::Value) -> Result<String> {
    hb.render(name, ctx)
        .map_err(|e| Error::Internal(format!("survey-templates/{name}: {e}")))
}

/// The email listing cases (`kind` in `ctx` is `digest`, `reminder` or
/// `escalation`), in `locale`.
pub(super) fn cases_email(locale: Locale, ctx: &serde_json::Value) -> Result<Rendered> {
    let r = registries()?;
    Rendered::email(&format!("team/{locale}/cases"), |file| {
        render(if is_html(file) { &r.html } else { &r.text }, file, ctx)
    })
}

/// The text of a Slack or Teams message about one complaint, in `locale`.
pub(super) fn chat_text(locale: Locale, ctx: &serde_json::Value) -> Result<String> {
    render(
        &registries()?.text,
        &format!("team/{locale}/chat.txt.hbs"),
        ctx,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_team_template_renders_in_every_locale_and_escapes_the_words() {
        let case = json!({
            "number": 1, "reference": "K7M2QX4P", "text": "Leveransen <b>kom</b> sent",
            "area": null, "rank": 1, "of": 2, "status": "open", "opened": "2027-01-04 08:00 UTC",
            "answer_date": "2027-01-04", "answer_locale": "sv", "overdue": "ack",
            "customer": {"name": "Anna", "email": "anna@example.com"},
            "actions": {"acknowledge": "https://x/c/a", "resolve": "https://x/c/r", "decline": "https://x/c/d"},
        });
        for locale in Locale::ALL {
            for kind in ["digest", "reminder", "escalation"] {
                let ctx = json!({
                    "lang": locale.as_str(),
                    "survey": {"title": "T", "organisation": "O"},
                    "kind": kind, "day": "2027-01-04", "count": 1,
                    "team": {"name": "Logistik"},
                    "cases": [case],
                    "dashboard": {"url": "https://x/admin/cases"},
                    "sla": {"ack_within": "8 timmar", "resolve_within": null},
                });
                let r = cases_email(locale, &ctx).unwrap();
                assert!(r.subject.contains('T') && !r.subject.is_empty(), "{kind}");
                assert!(r.text.contains("Leveransen <b>kom</b> sent"), "{}", r.text);
                assert!(r.html.contains("&lt;b&gt;kom"), "{}", r.html);
            }
            let chat = chat_text(
                locale,
                &json!({
                    "subject": "S",
                    "complaint": {"rank": 1, "of": 2, "text": "w"},
                    "answer": {"date": "2027-01-04"},
                    "actions": {"acknowledge": "a", "resolve": "r", "decline": "d"},
                    "dashboard": {"url": "u"},
                }),
            )
            .unwrap();
            assert!(chat.starts_with("S\n"), "{chat}");
        }
    }
}
