//! `taizhang template` integration tests (filled in by another engineer).
