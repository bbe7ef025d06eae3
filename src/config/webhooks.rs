//! How teams' webhooks are signed and where they may go: the global secret, each
//! team's own `PDS_WEBHOOK_SECRET_*`, and whether private addresses are allowed.

use crate::error::{Error, Result};

/// What a team's `secret_env` in routing.toml must start with, so that it can
/// name webhook secrets only, not any other variable of the server's environment.
pub const SECRET_ENV_PREFIX: &str = "PDS_WEBHOOK_SECRET_";

/// How webhooks are delivered (see README, "Webhooks").
#[derive(Clone, Default)]
pub struct WebhookSettings {
    /// The key of the `X-PDS-Signature` HMAC; without it, `json` webhooks are
    /// not delivered (the outbox records why).
    pub secret: Option<String>,
    /// Teams' own secrets: every `PDS_WEBHOOK_SECRET_*` environment variable by
    /// its name, which a team names with `secret_env` in routing.toml.
    pub team_secrets: std::collections::BTreeMap<String, String>,
    /// Allow webhook URLs on loopback and private networks (off: such a URL is
    /// refused when the routing is set and again before each delivery).
    pub allow_private: bool,
}

impl WebhookSettings {
    /// The key that signs a webhook: the team's own secret when it names one
    /// (an error, saying what to set, when that variable is missing), else the
    /// global `webhook_secret`.
    pub fn secret_for(
        &self,
        secret_env: Option<&str>,
    ) -> std::result::Result<Option<&str>, String> {
        match secret_env {
            None => Ok(self.secret.as_deref()),
            Some(name) => self.team_secrets.get(name).map(|s| Some(s.as_str())).ok_or_else(|| {
                format!(
                    "the team's webhook is signed with {name} (secret_env in routing.toml), which is not set \
                     where the worker runs; set it (at least 16 characters) and run pds outbox retry"
                )
            }),
        }
    }
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field(
                "team_secrets",
                &self.team_secrets.keys().collect::<Vec<_>>(),
            )
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

pub(super) fn webhook_settings(
    secret: Option<String>,
    allow_env: Option<String>,
    allow_file: Option<bool>,
) -> Result<WebhookSettings> {
    let secret = secret.filter(|s| !s.trim().is_empty());
    if secret.as_ref().is_some_and(|s| s.len() < 16) {
        return Err(too_short_secret("webhook_secret"));
    }
    let allow_private = match allow_env.as_deref().map(str::trim) {
        None => allow_file.unwrap_or(false),
        Some("1" | "true" | "yes") => true,
        Some("0" | "false" | "no" | "") => false,
        Some(other) => {
            return Err(Error::Config(format!(
                "PDS_WEBHOOK_ALLOW_PRIVATE {other:?} is not true or false"
            )))
        }
    };
    Ok(WebhookSettings {
        secret,
        team_secrets: Default::default(),
        allow_private,
    })
}

fn too_short_secret(name: &str) -> Error {
    Error::Config(format!(
        "{name} is shorter than 16 characters; use a long random text, e.g. from `openssl rand -hex 32`"
    ))
}

/// The teams' webhook secrets among the environment's `variables`: each
/// `PDS_WEBHOOK_SECRET_*` (the global `PDS_WEBHOOK_SECRET` is not one), at least
/// 16 characters long.
pub(super) fn team_secrets(
    variables: impl Iterator<Item = (String, String)>,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut secrets = std::collections::BTreeMap::new();
    for (name, value) in variables {
        if !name.starts_with(SECRET_ENV_PREFIX) || value.trim().is_empty() {
            continue;
        }
        if value.len() < 16 {
            return Err(too_short_secret(&name));
        }
        secrets.insert(name, value);
    }
    Ok(secrets)
}
