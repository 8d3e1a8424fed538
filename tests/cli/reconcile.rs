//! `taizhang reconcile` integration tests.

#[allow(unused_imports)]
use super::support::*;
