//! Admin API keys: who may use `/api/`. A key is 256 random bits shown once by
//! `pds keys create`; only its SHA-256 hash is stored, so a leaked database opens
//! nothing. Keys are named, revocable, and record when they were last used.
//!
//! This room decides whether a key is valid; it never logs or stores a key itself.

pub mod sessions;

use std::fmt;
use std::str::FromStr;

use diesel::prelude::*;
use subtle::ConstantTimeEq;

use crate::db::schema::api_keys;
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::secret;

/// What every key starts with, so that a key found in a file or a log is recognisable.
pub const PREFIX: &str = "pds_";
/// Longest accepted key name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// An API key as the user holds it: `pds_` and 64 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A fresh key from the operating system's cryptographic generator.
    pub fn generate() -> Self {
        ApiKey(format!("{PREFIX}{}", secret::random_hex::<32>()))
    }

    /// The form stored in the database.
    pub fn hash(&self) -> String {
        secret::hash(&self.0)
    }

    /// The key itself; shown to the user once, at creation.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// Debug output never shows the key: it would end up in logs.
impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// The text is not shaped like an API key; nothing was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAKey;

impl FromStr for ApiKey {
    type Err = NotAKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix(PREFIX).ok_or(NotAKey)?;
        if secret::is_hex(digits, 64) {
            Ok(ApiKey(s.to_string()))
        } else {
            Err(NotAKey)
        }
    }
}

/// A key's name: 1 to 64 letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl FromStr for KeyName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let ok = !t.is_empty()
            && t.chars().count() <= MAX_NAME_CHARS
            && t.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(KeyName(t.to_string()))
        } else {
            Err(Error::Invalid(format!(
                "key name {s:?}: use 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.', e.g. dashboard or ci-export"
            )))
        }
    }
}

impl KeyName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored key as `pds keys list` shows it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: chrono::NaiveDateTime,
    pub last_used_at: Option<chrono::NaiveDateTime>,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

/// Who is calling: the valid key's id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: i64,
    pub name: String,
}

/// Stores a new key under `name` and returns it; the caller shows it once.
pub fn create(db: &Database, name: &KeyName) -> Result<ApiKey> {
    let key = ApiKey::generate();
    db.write(|conn| {
        let taken: i64 = api_keys::table
            .filter(api_keys::name.eq(name.as_str()))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(Error::Invalid(format!(
                "a key named {:?} exists already (revoked keys keep their name); choose another name",
                name.as_str()
            )));
        }
        diesel::insert_into(api_keys::table)
            .values((
                api_keys::name.eq(name.as_str()),
                api_keys::key_hash.eq(key.hash()),
                api_keys::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(key)
}

/// Every key, oldest first.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<KeyInfo>> {
    Ok(api_keys::table
        .select(KeyInfo::as_select())
        .order(api_keys::id)
        .load(conn)?)
}

/// Revokes the key named `name`; from now on it opens nothing. Revoking twice is
/// harmless and keeps the first revocation time.
pub fn revoke(db: &Database, name: &KeyName) -> Result<KeyInfo> {
    db.write(|conn| {
        diesel::update(
            api_keys::table
                .filter(api_keys::name.eq(name.as_str()))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(now())))
        .execute(conn)?;
        let info = api_keys::table
            .filter(api_keys::name.eq(name.as_str()))
            .select(KeyInfo::as_select())
            .first::<KeyInfo>(conn)
            .optional()?;
        info.ok_or_else(|| {
            Error::NotFound(format!(
                "there is no key named {:?}; pds keys list shows the keys",
                name.as_str()
            ))
        })
    })
}

/// The caller behind `presented`, if it is a valid key that has not been revoked.
/// The stored hash is found by index and then compared in constant time, so the
/// comparison itself says nothing about how close a guess was.
pub fn verify(conn: &mut AnyConnection, presented: &str) -> Result<Option<Caller>> {
    let Ok(key) = presented.trim().parse::<ApiKey>() else {
        return Ok(None);
    };
    let hash = key.hash();
    let row: Option<(i64, String, String, Option<chrono::NaiveDateTime>)> = api_keys::table
        .filter(api_keys::key_hash.eq(&hash))
        .select((
            api_keys::id,
            api_keys::name,
            api_keys::key_hash,
            api_keys::revoked_at,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((id, name, stored, None)) if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) => {
            Some(Caller { key_id: id, name })
        }
        _ => None,
    })
}

/// Records that the key was used now. To the minute: a busy script does not turn
/// every read into a write.
pub fn touch(conn: &mut AnyConnection, key_id: i64) -> Result<()> {
    let stamp = now();
    diesel::update(
        api_keys::table.find(key_id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(stamp - chrono::Duration::minutes(1))),
        ),
    )
    .set(api_keys::last_used_at.eq(Some(stamp)))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_256_random_bits_and_parse_back() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.reveal().len(), PREFIX.len() + 64);
        assert_eq!(a.reveal().parse::<ApiKey>(), Ok(a.clone()));
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.reveal());
        assert!(!format!("{a:?}").contains(&a.reveal()[4..]));
    }

    #[test]
    fn other_shapes_are_not_keys() {
        assert_eq!("".parse::<ApiKey>(), Err(NotAKey));
        assert_eq!("pds_abc".parse::<ApiKey>(), Err(NotAKey));
        let upper = format!("pds_{}", "A".repeat(64));
        assert_eq!(upper.parse::<ApiKey>(), Err(NotAKey));
        let unprefixed = "a".repeat(68);
        assert_eq!(unprefixed.parse::<ApiKey>(), Err(NotAKey));
    }

    #[test]
    fn names_are_short_and_plain() {
        for name in ["dashboard", "ci-export_2.0"] {
            assert!(name.parse::<KeyName>().is_ok(), "{name:?}");
        }
        for name in ["", "has space", "x".repeat(65).as_str()] {
            assert!(name.parse::<KeyName>().is_err(), "{name:?}");
        }
    }
}
