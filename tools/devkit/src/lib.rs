//! Local stack and test support.
