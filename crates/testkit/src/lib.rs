//! Test support for taizhang, never part of the shipped program: used by
//! the integration tests, benches and examples (`gen_round`,
//! `make_samples`, `bench_*`).
//!
//! - [`synth`]: seeded synthetic rounds (children, county roster, survey
//!   rows with injected defects and the findings they must give) and the
//!   writers of their workbooks;
//! - [`ids`]: invented resident IDs with correct check characters, and the
//!   ways clerks retype them;
//! - [`readback`]: the cells of a written workbook as text, and a scan for
//!   full IDs left in text a person reads.
//!
//! Every ID and name here is invented; the check character comes from
//! `taizhang::gb11643`, the one place that knows GB 11643.

pub mod ids;
pub mod readback;
pub mod synth;
