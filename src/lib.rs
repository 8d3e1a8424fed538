//! taizhang: checks and reconciles the workbooks of a township's
//! compulsory-education enrolment verification (义务教育控辍保学).
//!
//! The pipeline, one module per stage, data flowing one way:
//! `read` → `normalize` → `check` → `link` → `derive` → `annotate` → `report`.
//! [`round::Round`] runs a round, [`output::write_all`] writes its results;
//! the binary (`main.rs`, `cli/`) only maps arguments, prints and sets the
//! exit status.

pub mod annotate;
pub mod check;
pub mod cli;
pub mod config;
pub mod derive;
pub mod gb11643;
pub mod guard;
pub(crate) mod hash;
pub mod inputs;
pub mod link;
pub mod model;
pub mod normalize;
pub mod output;
pub mod read;
pub mod report;
pub mod round;
pub mod templates;
