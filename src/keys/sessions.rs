//! Dashboard sessions, as stored: after a login with an API key the browser holds a
//! random token; only its SHA-256 hash is kept (table `admin_sessions`), so a leaked
//! database opens no session. A session expires after [`LIFETIME_HOURS`], ends at
//! logout, and opens nothing once its key is revoked. Each session has its own CSRF
//! token. The cookie and the HTTP side live in `web::admin::session`.

use diesel::prelude::*;
use subtle::ConstantTimeEq;

use crate::db::schema::{admin_sessions, api_keys};
use crate::db::{now, AnyConnection, Database};
use crate::error::Result;
use crate::secret::{self, hash};

/// How long a session lasts after login.
pub const LIFETIME_HOURS: i64 = 8;

/// A logged-in analyst.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    /// The name of the API key the analyst logged in with.
    pub key_name: String,
    /// Goes into every form; compared with [`Session::csrf_matches`].
    pub csrf: String,
}

impl Session {
    /// Whether `presented` is this session's CSRF token (in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        !presented.is_empty() && bool::from(presented.as_bytes().ct_eq(self.csrf.as_bytes()))
    }
}

/// Starts a session for the key `key_id`; returns the token for the cookie. Expired
/// sessions are cleared on the way.
pub fn start(db: &Database, key_id: i64) -> Result<String> {
    let token = secret::random_hex::<32>();
    let stamp = now();
    db.write(|conn| {
        diesel::delete(admin_sessions::table.filter(admin_sessions::expires_at.lt(stamp)))
            .execute(conn)?;
        diesel::insert_into(admin_sessions::table)
            .values((
                admin_sessions::token_hash.eq(hash(&token)),
                admin_sessions::csrf_token.eq(secret::random_hex::<32>()),
                admin_sessions::key_id.eq(key_id),
                admin_sessions::created_at.eq(stamp),
                admin_sessions::expires_at.eq(stamp + chrono::Duration::hours(LIFETIME_HOURS)),
            ))
            .execute(conn)?;
        Ok::<_, crate::error::Error>(())
    })?;
    Ok(token)
}

/// The live session behind `token`: not expired, its key not revoked.
pub fn find(conn: &mut AnyConnection, token: &str) -> Result<Option<Session>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let row: Option<(i64, String, String)> = admin_sessions::table
        .inner_join(api_keys::table)
        .filter(admin_sessions::token_hash.eq(hash(token)))
        .filter(admin_sessions::expires_at.gt(now()))
        .filter(api_keys::revoked_at.is_null())
        .select((
            admin_sessions::id,
            api_keys::name,
            admin_sessions::csrf_token,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, key_name, csrf)| Session { id, key_name, csrf }))
}

/// Ends a session (logout).
pub fn end(db: &Database, session_id: i64) -> Result<()> {
    db.write(|conn| {
        diesel::delete(admin_sessions::table.find(session_id)).execute(conn)?;
        Ok(())
    })
}
