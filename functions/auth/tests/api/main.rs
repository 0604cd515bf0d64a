//! The auth function's tests, against the local stand-ins.
//!
//! One test binary for the crate (one link of the AWS SDK), a module per feature.

mod accounts;
mod auth;
mod google_dev;
mod jwks;
mod text;
