//! One-click links in a complaint email: for each case one random token per action
//! (acknowledge, resolve, decline), each usable once, for [`LINK_DAYS`] days. Only
//! the SHA-256 hash is stored, as for personal survey links: a leaked database
//! acts on no case. A token is made when the complaint is planned (its URL goes
//! into the email) and stored when the complaint is queued.

use diesel::prelude::*;

use super::Action;
use crate::config::Settings;
use crate::db::schema::case_links;
use crate::db::AnyConnection;
use crate::error::Result;
use crate::invite::Token;

/// How long a link in a complaint email works.
pub const LINK_DAYS: i64 = 30;

/// The three action links of one complaint email, before they are stored.
#[derive(Clone)]
pub struct Links {
    tokens: [(Action, Token); 3],
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Links(***)")
    }
}

impl Links {
    pub fn generate() -> Links {
        Links {
            tokens: Action::ALL.map(|a| (a, Token::generate())),
        }
    }

    /// The URLs for the email template: `{acknowledge, resolve, decline}`.
    pub fn urls(&self, settings: &Settings) -> serde_json::Value {
        let mut urls = serde_json::Map::new();
        for (action, token) in &self.tokens {
            urls.insert(
                action.as_str().to_string(),
                settings.link(&path(token)).into(),
            );
        }
        serde_json::Value::Object(urls)
    }

    /// Stores the hashes for `case_id`, inside the caller's transaction.
    pub(super) fn store(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
        at: chrono::NaiveDateTime,
    ) -> Result<()> {
        for (action, token) in &self.tokens {
            diesel::insert_into(case_links::table)
                .values((
                    case_links::case_id.eq(case_id),
                    case_links::action.eq(action.as_str()),
                    case_links::token_hash.eq(token.hash()),
                    case_links::created_at.eq(at),
                    case_links::expires_at.eq(at + chrono::Duration::days(LINK_DAYS)),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// The path of an action link (the route is `/c/{token}`).
pub fn path(token: &Token) -> String {
    format!("/c/{}", token.as_str())
}

/// A stored link, found by its token's hash.
#[derive(Debug, Clone, Queryable)]
pub(super) struct LinkRow {
    pub id: i64,
    pub case_id: i64,
    pub action: String,
    pub expires_at: chrono::NaiveDateTime,
    pub used_at: Option<chrono::NaiveDateTime>,
}

pub(super) fn find(conn: &mut AnyConnection, token: &Token) -> Result<Option<LinkRow>> {
    Ok(case_links::table
        .filter(case_links::token_hash.eq(token.hash()))
        .select((
            case_links::id,
            case_links::case_id,
            case_links::action,
            case_links::expires_at,
            case_links::used_at,
        ))
        .first(conn)
        .optional()?)
}

/// Marks a link used; `false` when another request used it first.
pub(super) fn mark_used(
    conn: &mut AnyConnection,
    link_id: i64,
    at: chrono::NaiveDateTime,
) -> Result<bool> {
    Ok(diesel::update(
        case_links::table
            .find(link_id)
            .filter(case_links::used_at.is_null()),
    )
    .set(case_links::used_at.eq(at))
    .execute(conn)?
        == 1)
}
