//! Compiled Handlebars templates: a survey's emails, pages and messages, and the
//! site pages not tied to a survey. Strict mode: a misspelt variable is an error.

use std::collections::BTreeMap;

use handlebars::Handlebars;

use super::{Locale, SHIPPED_TEMPLATES};
use crate::error::Error;

/// An email ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The From display name (the address is the `mail_from` setting's); `None`
    /// keeps the setting's name.
    pub sender: Option<String>,
    /// Where replies go (a Reply-To header); `None` sends none.
    pub reply_to: Option<lettre::Address>,
}

impl Rendered {
    /// The email whose parts are the templates `{stem}.subject.hbs`, `{stem}.txt.hbs`
    /// and `{stem}.html.hbs`, each rendered by `render`; no sender, no Reply-To.
    pub fn email<E>(
        stem: &str,
        mut render: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<Rendered, E> {
        let subject = render(&format!("{stem}.subject.hbs"))?;
        Ok(Rendered {
            // A subject is one line: newlines in it would forge headers or be folded.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: render(&format!("{stem}.txt.hbs"))?,
            html: render(&format!("{stem}.html.hbs"))?,
            sender: None,
            reply_to: None,
        })
    }
}

/// One survey's templates, keyed `"{locale}/{file}"`.
pub(super) struct SurveyTemplates {
    /// HTML pages and HTML email parts: values are HTML-escaped.
    html: Handlebars<'static>,
    /// Subject lines, plain-text email parts and messages: no escaping, because the
    /// output is not HTML (messages are escaped again where a page shows them).
    text: Handlebars<'static>,
}

fn registry(escape: bool) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    if !escape {
        hb.register_escape_fn(handlebars::no_escape);
    }
    hb
}

impl SurveyTemplates {
    pub(super) fn compile(
        locales: &[Locale],
        files: &BTreeMap<String, String>,
        message_keys: &[&str],
        problems: &mut Vec<String>,
    ) -> Self {
        let mut html = registry(true);
        let mut text = registry(false);
        for locale in locales {
            for (name, source) in files
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{locale}/")))
            {
                let before = problems.len();
                if name.ends_with(".hbs") {
                    super::includes::check_nesting(name, source, problems);
                }
                let result = if problems.len() > before {
                    // Too deep for the parser to be trusted with it (reported above).
                    Ok(())
                } else if name.ends_with(".html.hbs") {
                    html.register_template_string(name, source)
                } else if name.ends_with(".hbs") {
                    text.register_template_string(name, source)
                } else if name.ends_with("messages.toml") {
                    match toml::from_str::<BTreeMap<String, String>>(source) {
                        Ok(messages) => {
                            for &key in message_keys {
                                match messages.get(key) {
                                    Some(m) => {
                                        let before = problems.len();
                                        super::includes::check_nesting(
                                            &format!("{name}: {key}"),
                                            m,
                                            problems,
                                        );
                                        if problems.len() > before {
                                            continue;
                                        }
                                        if let Err(e) = text.register_template_string(
                                            &format!("{locale}/messages/{key}"),
                                            m,
                                        ) {
                                            problems.push(format!("{name}: {key}: {e}"));
                                        }
                                    }
                                    None => {
                                        problems.push(format!("{name}: key {key:?} is missing"))
                                    }
                                }
                            }
                            for key in messages.keys() {
                                if !message_keys.contains(&key.as_str()) {
                                    problems.push(format!("{name}: unknown key {key:?}"));
                                }
                            }
                        }
                        Err(e) => problems.push(format!("{name}: {}", e.to_string().trim_end())),
                    }
                    Ok(())
                } else {
                    Ok(())
                };
                if let Err(e) = result {
                    problems.push(format!("{name}: {e}"));
                }
            }
        }
        // A cycle would overflow the stack at render time, so this comes before any
        // template is rendered, here or in the server.
        super::includes::check_includes(&html, problems);
        super::includes::check_includes(&text, problems);
        SurveyTemplates { html, text }
    }

    pub(super) fn render_email(
        &self,
        locale: Locale,
        name: &str,
        ctx: &serde_json::Value,
    ) -> Result<Rendered, Error> {
        Rendered::email(&format!("{locale}/{name}"), |file| {
            let registry = if file.ends_with(".html.hbs") {
                &self.html
            } else {
                &self.text
            };
            render(registry, file, ctx)
        })
    }

    pub(super) fn render_html(
        &self,
        locale: Locale,
        page: &str,
        ctx: &serde_json::Value,
    ) -> Result<String, Error> {
        render(&self.html, &format!("{locale}/{page}.html.hbs"), ctx)
    }

    pub(super) fn message(&self, locale: Locale, key: &str, vars: &serde_json::Value) -> String {
        render(&self.text, &format!("{locale}/messages/{key}"), vars)
            .unwrap_or_else(|_| key.to_string())
    }

    pub(super) fn check_message(
        &self,
        locale: Locale,
        key: &str,
        vars: &serde_json::Value,
        problems: &mut Vec<String>,
    ) {
        if let Err(e) = render(&self.text, &format!("{locale}/messages/{key}"), vars) {
            problems.push(format!("{locale}/messages.toml: {key}: {e}"));
        }
    }
}

fn render(hb: &Handlebars<'_>, name: &str, ctx: &serde_json::Value) -> Result<String, Error> {
    hb.render(name, ctx).map_err(|e| Error::Render {
        template: name.to_string(),
        reason: e.to_string(),
    })
}

/// The pages under `survey-templates/site/{locale}/`.
const SITE_PAGES: [&str; 5] = [
    "not_found",
    "error",
    "case_action",
    "case_done",
    "case_link",
];

/// Pages not tied to a survey (`survey-templates/site/`), compiled once at start.
pub struct SiteTemplates {
    html: Handlebars<'static>,
}

impl SiteTemplates {
    /// The site pages shipped in the binary.
    pub fn shipped() -> Result<Self, Error> {
        let mut html = registry(true);
        for locale in Locale::ALL {
            for page in SITE_PAGES {
                let path = format!("site/{locale}/{page}.html.hbs");
                let source = SHIPPED_TEMPLATES
                    .get_file(&path)
                    .and_then(|f| f.contents_utf8())
                    .ok_or_else(|| Error::Render {
                        template: path.clone(),
                        reason: "not shipped with this build".into(),
                    })?;
                html.register_template_string(&path, source)
                    .map_err(|e| Error::Render {
                        template: path.clone(),
                        reason: e.to_string(),
                    })?;
            }
        }
        Ok(SiteTemplates { html })
    }

    pub fn render(&self, locale: Locale, page: &str, status: u16) -> Result<String, Error> {
        self.render_with(locale, page, status, serde_json::json!({}))
    }

    /// Like [`SiteTemplates::render`], with `extra` merged over `lang` and `status`.
    pub fn render_with(
        &self,
        locale: Locale,
        page: &str,
        status: u16,
        extra: serde_json::Value,
    ) -> Result<String, Error> {
        let mut ctx = serde_json::json!({"lang": locale.as_str(), "status": status});
        super::merge(&mut ctx, extra);
        render(&self.html, &format!("site/{locale}/{page}.html.hbs"), &ctx)
    }
}

/// A site page by name, rendered with the shipped templates (used where no
/// `SiteTemplates` was built, e.g. before start-up finished).
pub fn site_page(locale: Locale, page: &str, status: u16) -> Result<String, Error> {
    SiteTemplates::shipped()?.render(locale, page, status)
}

/// A file under `survey-templates/static/`, with its content type.
pub fn static_file(name: &str) -> Option<(&'static [u8], &'static str)> {
    let file = SHIPPED_TEMPLATES.get_file(format!("static/{name}"))?;
    let content_type = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    Some((file.contents(), content_type))
}
