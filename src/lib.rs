//! `pds`: a Problem Detection Study engine.
//!
//! Customers receive a personal link by email, write the problems they have had in
//! their own words and rank them by importance; analysts get problem areas ranked by
//! frequency weighted by importance (`joint-v1`, see `docs/METHOD.md`).
//!
//! The library is organised by capability (see `docs/ARCHITECTURE.md`): `invite`, `answer`,
//! `coding`, `stats`, `report`, `mail`; `web`, `cli` and `db` are doors into them.

pub mod age;
pub mod answer;
pub mod attributes;
pub mod audience;
pub mod cases;
pub mod checklist;
pub mod cli;
pub mod clock;
pub mod coding;
pub mod config;
pub mod db;
pub mod error;
pub mod invite;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod named;
pub mod report;
pub mod route;
pub mod secret;
pub mod setup;
pub mod source_lines;
pub mod stats;
pub mod survey;
pub mod text_safety;
pub mod web;
pub mod working_hours;

pub use error::{Error, Result};
