//! Routing: which complaints go to which operations team, decided as each answer
//! arrives. Rules come from a survey's `routing.toml` (see docs/TEMPLATES.md) and
//! explain themselves, so `pds route test` can say why a rule fired. This room
//! decides (`plan_complaints`, before the write lock) and is the one room that
//! writes `routed_complaints` and queues their emails (`queue_planned`), inside the
//! transaction `answer` stores the response in. It does not deliver mail, and it
//! takes problems as its own `Problem`, so it never imports `answer`.

mod complaints;
mod reasons;
mod rules;
mod store;
mod team_pass;
mod team_templates;
mod teams;
pub mod webhook;

pub use complaints::{plan_complaints, queue_planned, Planned, Problem, Response};
pub use rules::{Facts, Fired, Reason, Routing, RoutingError, Rule};
pub use store::{case_figures, load, save};
pub use team_pass::{run as run_team_pass, PassReport};
pub use teams::{Sla, Team, Webhook, WebhookFormat};
pub use webhook::check_addresses as check_webhook_addresses;
