//! The library every Kitchen API function shares.
//!
//! Each function's `main.rs` builds one [`AppState`] at cold start (config, clients, keys) and hands it
//! to its router; everything a handler needs beyond its own logic lives here:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`config`] | the one `Config`, read from the environment once per cold start |
//! | [`state`] | `AppState`: config, table, event publisher, HTTP clients, keys |
//! | [`error`] | `ApiError`, the only way a handler fails, rendered as RFC 9457 problem+json |
//! | [`extract`] | the strict JSON body and query extractors, `AuthUser` / `AdminUser` |
//! | [`http`] | the defaults every router gets: fallbacks, body limit, the request log line, 5xx counts |
//! | [`domain`] | newtypes parsed at the edge: `Email`, `PhoneNumber`, `Password`, ids, roles |
//! | [`token`] | access JWTs and refresh tokens |
//! | [`cursor`] | signed pagination cursors |
//! | [`password`] | Argon2id hashing |
//! | [`google`] | Google ID token verification against Google's JWKS |
//! | [`db`] | the single table: every key and access pattern |
//! | [`events`] | order events published to the SNS topic |
//! | [`ordering`] | pricing and placing orders, moving them along, the unpaid-order sweep, announcing each change |
//! | [`paystack`] | the Paystack client, webhook signatures, recording a charge on a payment and its order |
//! | [`telemetry`] | JSON logs for Lambda, every line of an invocation with its request and trace ids |
//! | [`metrics`] | every metric the code emits, declared once, as CloudWatch embedded-metric-format lines |

pub mod app;
pub mod caller;
pub mod config;
pub mod cursor;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod google;
pub mod http;
pub mod metrics;
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
