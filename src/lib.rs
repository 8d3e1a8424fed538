//! taizhang: checks and reconciles the workbooks of a township's
//! compulsory-education enrolment verification (义务教育控辍保学).
//!
//! The pipeline, one module per stage, data flowing one way:
//! `read` → `normalize` → `check` → `link` → `derive` → `annotate` → `report`.
//! The binary (`main.rs`, `cmd/`) only parses arguments and orchestrates.

pub mod annotate;
pub mod check;
pub mod cmd;
pub mod config;
pub mod derive;
pub mod gb11643;
pub mod link;
pub mod model;
pub mod normalize;
pub mod read;
pub mod report;
pub mod synth;
pub mod templates;
