//! Contract tests: template.yaml, the OpenAPI document, the routers and the code agree.
//!
//! One test binary for the crate (one link of the AWS SDK), a module per feature.

mod alarms;
mod environment;
mod events;
mod iam;
mod notifier_environment;
mod routes;
mod text;
mod timeouts;
