//! The orders function's tests, against the local stand-ins.
//!
//! One test binary for the crate (one link of the AWS SDK), a module per feature.

mod capacity;
mod cart;
mod orders;
mod reconcile;
mod reminders;
mod text;
