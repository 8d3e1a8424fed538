//! CLI integration tests: the built `taizhang` binary run on generated
//! rounds (see `support` for the harness).

mod check;
mod copies;
mod reconcile;
mod support;
mod template;
