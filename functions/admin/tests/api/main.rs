//! The admin function's tests, against the local stand-ins.
//!
//! One test binary for the crate (one link of the AWS SDK), a module per feature.

mod dishes;
mod kitchen;
mod lists;
mod orders;
mod payments;
mod refunds;
mod round_trips;
mod text;
mod users;
