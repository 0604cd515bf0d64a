//! The dishes function's tests, against the local stand-ins.
//!
//! One test binary for the crate (one link of the AWS SDK), a module per feature.

mod health;
mod kitchen;
mod menu;
