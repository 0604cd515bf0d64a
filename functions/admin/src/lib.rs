//! The admin function.
