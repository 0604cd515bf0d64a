//! Local stack and test support for Kitchen API. Never deployed.
//!
//! - [`table`]: the table's key schema and indexes, read from `template.yaml` (the one definition the
//!   cloud and the local stand-in share), and creating a table from it.
//! - [`openapi`]: every response a test receives is checked against the OpenAPI document.
//! - [`stack`]: template.yaml as the local stack runs it — each function's environment, policies and
//!   schedules, resolved to local values.
//! - [`iam`]: each function's policy applied to every AWS request it makes, as AWS applies it.
//! - [`iam_proxy`]: the same check for function processes, as a proxy in front of the stand-ins.
//! - [`testing`]: a fresh table per test in DynamoDB Local and a function's router driven in-process.
//! - [`google_dev`]: the development Google signing key `make dev` trusts, its JWKS, and ID tokens
//!   minted with it.
//! - [`seed`]: the admin the local stack's set-up seeds.
//! - [`faults`]: faults of the table DynamoDB Local does not make by itself (a lagging index, reads
//!   failing after a write), for the test apps.

pub mod faults;
pub mod google_dev;
pub mod iam;
pub mod iam_proxy;
pub mod openapi;
pub mod seed;
pub mod stack;
pub mod table;
pub mod testing;

/// The repository root, for finding `template.yaml`.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
