//! `taizhang check` integration tests (filled in by another engineer).
