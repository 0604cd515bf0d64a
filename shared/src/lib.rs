//! The library every Kitchen API function shares.
//!
//! Data flows one way: a function's handler extracts the request (with [`http`]), calls one
//! workflow of [`app`], and answers; the workflow applies the rules and talks to the table ([`db`])
//! and the clients ([`paystack`], [`events`], [`google`]). Each function's `main.rs` builds its
//! [`AppState`] once at cold start from the settings it declares ([`state::Function`]), so a function
//! holds only what it uses.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`app`] | the workflows, one module per use case; the idempotency runner; announcing a change |
//! | [`http`] | extractors, `ApiError` as problem+json, workflow outcomes as responses, router defaults, the request log |
//! | [`caller`] | the verified token and the authenticated caller, made only by a session check |
//! | [`domain`] | the domain's types: orders, payments, users, dishes, carts, money, and the newtypes parsed at the edge |
//! | [`db`] | the single table: every key, index and access pattern |
//! | [`paystack`] | the Paystack API client and the webhook's signature key |
//! | [`events`] | order events published to the SNS topic |
//! | [`google`] | Google ID token verification against Google's JWKS |
//! | [`config`] | the one configuration, each function reading only its own settings |
//! | [`state`] | `AppState`: a function's table, publisher, clients and keys; the SDK configuration |
//! | [`error`] | `ApiError`, what a workflow or handler fails with, in the API's terms |
//! | [`token`] | access JWTs and refresh tokens |
//! | [`cursor`] | signed pagination cursors |
//! | [`one_time`] | the one-time tokens of verification and reset links |
//! | [`email`] | account emails sent through SES |
//! | [`password`] | Argon2id hashing |
//! | [`telemetry`] | JSON logs for Lambda, every line of an invocation with its request and trace ids |
//! | [`metrics`] | every metric the code emits, declared once, as CloudWatch embedded-metric-format lines |

pub mod app;
pub mod caller;
pub mod config;
pub mod cursor;
pub mod db;
pub mod domain;
pub mod email;
pub mod error;
pub mod events;
pub mod google;
pub mod http;
pub mod metrics;
pub mod one_time;
pub mod password;
pub mod paystack;
pub mod state;
pub mod telemetry;
pub mod token;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

/// The current time, truncated to whole seconds so that stored and returned timestamps agree.
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}
