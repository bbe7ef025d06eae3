//! The integration tests, one binary with a module per story (one build and link
//! instead of twenty). Each module drives the real app: `common::TestApp` starts it
//! on a random port with a fresh SQLite or PostgreSQL database and the SMTP server
//! that `scripts/test` runs; `scripts/test -- MODULE` runs one module.

#[macro_use]
mod common;

mod accessibility;
mod admin_api;
mod announcements;
mod answer_form;
mod answer_reliability;
mod browser;
mod cadence;
mod cases;
mod checklist;
mod checklist_browser;
mod checklist_drafts;
mod checklist_import;
mod checklist_results;
mod checklist_staff;
mod coding_codebook;
mod coding_learning;
mod coding_review;
mod coding_workflow;
mod commands;
mod crash_safety;
mod dashboard;
mod dashboard_browser;
mod db_copy;
mod discovery_study;
mod email_delivery;
mod exports;
mod followup_review;
mod hardening;
mod import_interrupted;
mod phone_form;
mod privacy;
mod rate_limit;
mod responses_import;
mod results_analysis;
mod scale_out;
mod segment_columns;
mod stats_crosscheck;
mod survey_folders;
mod survey_summary;
mod teams;
