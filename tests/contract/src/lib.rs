//! Contract tests only; see `tests/`.
