//! CLI integration tests: the built `taizhang` binary run on generated
//! rounds (see `support` for the harness).

mod blank_forms;
mod check;
mod copies;
mod field_read;
mod field_words;
mod landing;
mod library;
mod masking;
mod reconcile;
mod report_page;
mod reruns;
mod second_hour;
mod skipped_inputs;
mod structure;
mod support;
mod template;
mod templates_config;
