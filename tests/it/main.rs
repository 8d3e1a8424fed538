//! The integration tests, one binary with a module per area (one link step
//! instead of one per file): the built `taizhang` binary run on generated
//! rounds (see `support` for the harness), the library's public functions,
//! the annotated copies opened by LibreOffice, 报告.html in headless Chromium
//! and the Windows program under Wine.

mod annotate_fidelity;
mod annotate_open_points;
mod annotate_render;
mod annotate_samples;
mod blank_forms;
mod check;
mod check_public_api;
mod copies;
mod csv_copies;
mod field_read;
mod field_words;
mod flow;
mod hostile;
mod html_report;
mod landing;
mod library;
mod masking;
mod read_input;
mod readme_quickstart;
mod reconcile;
mod report_page;
mod reruns;
mod second_hour;
mod skipped_inputs;
mod structure;
mod support;
mod template;
mod templates_config;
mod templates_filled;
mod windows_wine;
mod xlsx_stream;
