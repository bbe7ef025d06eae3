//! Routing: which complaints go to which operations team, decided as each answer
//! arrives. Rules come from a survey's `routing.toml` (see docs/TEMPLATES.md) and
//! explain themselves, so `pds route test` can say why a rule fired. This room
//! decides (`plan_complaints`, before the write lock) and is the one room that
//! writes `routed_complaints` and queues their emails (`queue_planned`), inside the
//! transaction `answer` stores the response in. It does not deliver mail, and it
//! takes problems as its own `Problem`, so it never imports `answer`.

mod complaints;
mod rules;
mod store;

pub use complaints::{plan_complaints, queue_planned, Planned, Problem, Response};
pub use rules::{Facts, Fired, Routing, RoutingError, Rule, Team};
pub use store::{load, save};
