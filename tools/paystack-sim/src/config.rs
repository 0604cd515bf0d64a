//! Start-up settings of the simulator, from command-line flags or environment variables.
//!
//! The binary parses them with clap; Rust tests build a [`SimConfig`] directly, usually as
//! `SimConfig { port: 0, webhook_url, ..SimConfig::default() }`.

use std::fmt;
use std::time::Duration;

/// The port `make dev` expects the simulator on.
pub const DEFAULT_PORT: u16 = 9100;
/// The secret key the local stack uses unless `PAYSTACK_SECRET_KEY` says otherwise.
pub const DEFAULT_SECRET_KEY: &str = "sk_test_local_secret";
/// The local API's webhook route.
pub const DEFAULT_WEBHOOK_URL: &str = "http://127.0.0.1:9000/webhooks/paystack";
/// Pause between webhook retries. Paystack retries hourly in test mode; that is useless locally.
pub const DEFAULT_RETRY_MS: u64 = 500;
/// Retries after a first delivery that did not get a 200.
pub const DEFAULT_RETRY_ATTEMPTS: u32 = 5;
/// How long one webhook delivery may take. Paystack allows 30 s; a local receiver answers at once.
pub const DEFAULT_WEBHOOK_TIMEOUT_MS: u64 = 10_000;

#[derive(Clone, PartialEq, Eq, clap::Parser)]
#[command(
    name = "paystack-sim",
    about = "Local Paystack simulator: transaction and refund API, checkout page, disputes, signed webhooks (dev and test only)"
)]
pub struct SimConfig {
    /// Port to listen on (always 127.0.0.1); 0 picks a free one.
    #[arg(long, env = "PAYSTACK_SIM_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// The secret key callers must present, and the key webhooks are signed with.
    #[arg(long, env = "PAYSTACK_SECRET_KEY", default_value = DEFAULT_SECRET_KEY, hide_env_values = true)]
    pub secret_key: String,

    /// Where webhooks (`charge.success`, `refund.*`, `charge.dispute.*`) are POSTed.
    #[arg(long, env = "PAYSTACK_WEBHOOK_URL", default_value = DEFAULT_WEBHOOK_URL)]
    pub webhook_url: String,

    /// Base URL of this simulator as a browser reaches it, used in `authorization_url`
    /// (default `http://127.0.0.1:<port>`).
    #[arg(long, env = "PAYSTACK_SIM_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Artificial latency added to every Paystack API call, to exercise client timeouts.
    #[arg(long, env = "PAYSTACK_SIM_DELAY_MS", default_value_t = 0)]
    pub delay_ms: u64,

    /// Pause between webhook retries.
    #[arg(long, env = "PAYSTACK_SIM_RETRY_MS", default_value_t = DEFAULT_RETRY_MS)]
    pub retry_ms: u64,

    /// How many times a webhook that did not get a 200 is retried.
    #[arg(long, env = "PAYSTACK_SIM_RETRY_ATTEMPTS", default_value_t = DEFAULT_RETRY_ATTEMPTS)]
    pub retry_attempts: u32,

    /// Time limit of one webhook delivery.
    #[arg(long, env = "PAYSTACK_SIM_WEBHOOK_TIMEOUT_MS", default_value_t = DEFAULT_WEBHOOK_TIMEOUT_MS)]
    pub webhook_timeout_ms: u64,
}

impl SimConfig {
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms)
    }

    pub fn retry_interval(&self) -> Duration {
        Duration::from_millis(self.retry_ms)
    }

    pub fn webhook_timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms)
    }
}

/// The same values as the flags' defaults, without reading the environment — what a test wants.
impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            webhook_url: DEFAULT_WEBHOOK_URL.to_owned(),
            public_url: None,
            delay_ms: 0,
            retry_ms: DEFAULT_RETRY_MS,
            retry_attempts: DEFAULT_RETRY_ATTEMPTS,
            webhook_timeout_ms: DEFAULT_WEBHOOK_TIMEOUT_MS,
        }
    }
}

// Written by hand so the secret key never reaches a log line.
impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("port", &self.port)
            .field("secret_key", &"<redacted>")
            .field("webhook_url", &self.webhook_url)
            .field("public_url", &self.public_url)
            .field("delay_ms", &self.delay_ms)
            .field("retry_ms", &self.retry_ms)
            .field("retry_attempts", &self.retry_attempts)
            .field("webhook_timeout_ms", &self.webhook_timeout_ms)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn flags_override_the_defaults() {
        let config = SimConfig::try_parse_from([
            "paystack-sim",
            "--port",
            "9200",
            "--secret-key",
            "sk_test_other",
            "--webhook-url",
            "http://127.0.0.1:1/hook",
            "--public-url",
            "http://localhost:9200",
            "--delay-ms",
            "250",
            "--retry-ms",
            "10",
            "--retry-attempts",
            "2",
        ])
        .unwrap();
        assert_eq!(config.port, 9200);
        assert_eq!(config.secret_key, "sk_test_other");
        assert_eq!(config.webhook_url, "http://127.0.0.1:1/hook");
        assert_eq!(config.public_url.as_deref(), Some("http://localhost:9200"));
        assert_eq!(config.delay(), Duration::from_millis(250));
        assert_eq!(config.retry_interval(), Duration::from_millis(10));
        assert_eq!(config.retry_attempts, 2);
    }

    #[test]
    fn debug_output_hides_the_secret_key() {
        let shown = format!("{:?}", SimConfig::default());
        assert!(!shown.contains(DEFAULT_SECRET_KEY), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
