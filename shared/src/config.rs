//! The one configuration, read from the environment once per cold start.
//!
//! Endpoints and credentials for AWS come from the standard AWS variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, …) through `aws-config`; this struct holds the project's own.
//! Every missing or malformed variable is reported at once, by name.

use std::{env, fmt, time::Duration};

/// A secret read from the environment or SSM; never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a secret comes from: the value itself (locally) or the name of an SSM SecureString (in AWS).
#[derive(Debug, Clone)]
pub enum SecretSource {
    Value(Secret),
    SsmParameter(String),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub jwt_secret: SecretSource,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_max_age: Duration,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    pub google_client_ids: Vec<String>,
    pub google_jwks_url: String,
    /// The kitchen's time zone: "today" for the menu and delivery dates is the kitchen's today.
    pub kitchen_zone: jiff::tz::TimeZone,
    pub topic_arn: Option<String>,
    /// How long an order may stay unpaid before it is cancelled for payment timeout.
    pub unpaid_order_expiry: Duration,
    /// Paystack, for the payments and webhook functions; `None` when no secret key is configured
    /// (the other functions never talk to Paystack). See [`Config::require_paystack`].
    pub paystack: Option<PaystackConfig>,
}

/// Paystack's address, our secret key, and how the client and the webhook behave.
#[derive(Debug, Clone)]
pub struct PaystackConfig {
    /// `PAYSTACK_BASE_URL`: `https://api.paystack.co` in AWS, the simulator locally.
    pub base_url: String,
    /// `PAYSTACK_SECRET_KEY` (locally) or `PAYSTACK_SECRET_PARAMETER` (an SSM SecureString in AWS).
    pub secret_key: SecretSource,
    /// `PAYSTACK_CALLBACK_URL`: where checkout sends the payer back to; unset, the dashboard's.
    pub callback_url: Option<String>,
    /// `PAYSTACK_TIMEOUT_MS`: one call to Paystack, well under the function's own timeout.
    pub timeout: Duration,
    /// `PAYSTACK_WEBHOOK_ALLOWED_IPS`: comma-separated source addresses the webhook accepts (behind
    /// API Gateway, `requestContext.http.sourceIp`); empty accepts any, the signature being the gate.
    pub webhook_allowed_ips: Vec<std::net::IpAddr>,
}

pub const PAYSTACK_BASE_URL: &str = "https://api.paystack.co";

pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    /// Reads the configuration of a function that reads `settings` from the process environment.
    pub fn from_env(settings: &[Setting]) -> Result<Self, ConfigError> {
        Self::for_function(settings, |name| env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can supply their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut vars = Vars {
            lookup: &lookup,
            problems: Vec::new(),
        };
        let table_name = vars.required("TABLE_NAME");
        let jwt_secret = vars.secret("JWT_SECRET", "JWT_SECRET_PARAMETER");
        let config = Config {
            table_name: table_name.unwrap_or_default(),
            jwt_secret: jwt_secret.unwrap_or(SecretSource::Value(Secret::new(""))),
            access_token_ttl: vars.seconds("ACCESS_TOKEN_TTL_SECONDS", 30 * 60),
            refresh_token_ttl: vars.seconds("REFRESH_TOKEN_TTL_SECONDS", 90 * 60),
            session_max_age: vars.seconds("SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600),
            login_max_failures: vars.number("LOGIN_MAX_FAILURES", 5),
            login_lockout: vars.seconds("LOGIN_LOCKOUT_SECONDS", 15 * 60),
            google_client_ids: vars
                .optional("GOOGLE_CLIENT_IDS")
                .map(|ids| {
                    ids.split(',')
                        .map(str::trim)
                        .filter(|id| !id.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            google_jwks_url: vars
                .optional("GOOGLE_JWKS_URL")
                .unwrap_or_else(|| GOOGLE_JWKS_URL.to_string()),
            kitchen_zone: vars.time_zone("KITCHEN_TIMEZONE", "Africa/Lagos"),
            topic_arn: vars.optional("TOPIC_ARN"),
            unpaid_order_expiry: vars.seconds("UNPAID_ORDER_EXPIRY_SECONDS", 24 * 3600),
            paystack: vars.paystack(),
        };
        if let SecretSource::Value(secret) = &config.jwt_secret
            && vars.problems.is_empty()
            && secret.expose().len() < 32
        {
            vars.problems
                .push("JWT_SECRET must be at least 32 characters".to_string());
        }
        if vars.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                problems: vars.problems,
            })
        }
    }
}

/// A setting some functions read and others do not. A function lists the ones it reads (see
/// [`crate::state::Function`]) and its cold start refuses to run without them, naming the variable, so
/// a template that forgets to give a function one fails at once, as it would in AWS, instead of the
/// function quietly using a default that another function does not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `KITCHEN_TIMEZONE`: what "today" is for menus and delivery dates.
    KitchenTimezone,
    /// `UNPAID_ORDER_EXPIRY_SECONDS`: when an unpaid order counts as cancelled.
    UnpaidOrderExpiry,
    /// `TOPIC_ARN`: where order events are published.
    Topic,
    /// `PAYSTACK_SECRET_PARAMETER` (or `PAYSTACK_SECRET_KEY`) and the rest of Paystack's settings.
    Paystack,
}

impl Setting {
    /// The variable that carries it.
    pub fn variable(self) -> &'static str {
        match self {
            Setting::KitchenTimezone => "KITCHEN_TIMEZONE",
            Setting::UnpaidOrderExpiry => "UNPAID_ORDER_EXPIRY_SECONDS",
            Setting::Topic => "TOPIC_ARN",
            Setting::Paystack => "PAYSTACK_SECRET_PARAMETER",
        }
    }
}

impl Config {
    /// The configuration of a function that reads `settings`: as [`Config::from_lookup`], and every
    /// one of `settings` must be given.
    pub fn for_function(
        settings: &[Setting],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let given = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut problems: Vec<String> = settings
            .iter()
            .filter(|setting| match setting {
                Setting::Paystack => {
                    given("PAYSTACK_SECRET_PARAMETER").is_none()
                        && given("PAYSTACK_SECRET_KEY").is_none()
                }
                other => given(other.variable()).is_none(),
            })
            .map(|setting| match setting {
                Setting::Paystack => {
                    "neither PAYSTACK_SECRET_KEY nor PAYSTACK_SECRET_PARAMETER is set".to_string()
                }
                other => format!("{} is not set", other.variable()),
            })
            .collect();
        match Self::from_lookup(&lookup) {
            Ok(config) if problems.is_empty() => Ok(config),
            Ok(_) => Err(ConfigError { problems }),
            Err(mut err) => {
                err.problems.append(&mut problems);
                Err(err)
            }
        }
    }

    /// The Paystack settings, for the functions that cannot work without them (checked at cold start).
    pub fn require_paystack(&self) -> Result<&PaystackConfig, ConfigError> {
        self.paystack.as_ref().ok_or_else(|| ConfigError {
            problems: vec![
                "neither PAYSTACK_SECRET_KEY nor PAYSTACK_SECRET_PARAMETER is set".to_string(),
            ],
        })
    }
}

struct Vars<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    problems: Vec<String>,
}

impl<F: Fn(&str) -> Option<String>> Vars<'_, F> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|value| !value.trim().is_empty())
    }

    fn required(&mut self, name: &str) -> Option<String> {
        let value = self.optional(name);
        if value.is_none() {
            self.problems.push(format!("{name} is not set"));
        }
        value
    }

    fn secret(&mut self, value_var: &str, parameter_var: &str) -> Option<SecretSource> {
        match (self.optional(value_var), self.optional(parameter_var)) {
            (Some(value), _) => Some(SecretSource::Value(Secret::new(value))),
            (None, Some(parameter)) => Some(SecretSource::SsmParameter(parameter)),
            (None, None) => {
                self.problems
                    .push(format!("neither {value_var} nor {parameter_var} is set"));
                None
            }
        }
    }

    fn number(&mut self, name: &str, default: u32) -> u32 {
        match self.optional(name) {
            None => default,
            Some(value) => match value.trim().parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    self.problems.push(format!(
                        "{name} must be a positive whole number, not {value:?}"
                    ));
                    default
                }
            },
        }
    }

    fn time_zone(&mut self, name: &str, default: &str) -> jiff::tz::TimeZone {
        let wanted = self.optional(name).unwrap_or_else(|| default.to_string());
        jiff::tz::TimeZone::get(&wanted).unwrap_or_else(|_| {
            self.problems
                .push(format!("{name} is not a known time zone: {wanted:?}"));
            jiff::tz::TimeZone::UTC
        })
    }

    /// Paystack's settings if a secret key is configured; their other variables are checked only then.
    fn paystack(&mut self) -> Option<PaystackConfig> {
        let secret_key = match (
            self.optional("PAYSTACK_SECRET_KEY"),
            self.optional("PAYSTACK_SECRET_PARAMETER"),
        ) {
            (Some(value), _) => SecretSource::Value(Secret::new(value)),
            (None, Some(parameter)) => SecretSource::SsmParameter(parameter),
            (None, None) => return None,
        };
        let mut url = |name: &str| {
            let value = self.optional(name)?;
            let trimmed = value.trim().trim_end_matches('/').to_string();
            if trimmed.starts_with("https://") || trimmed.starts_with("http://") {
                Some(trimmed)
            } else {
                self.problems
                    .push(format!("{name} must be an http(s) URL, not {value:?}"));
                None
            }
        };
        let base_url = url("PAYSTACK_BASE_URL").unwrap_or_else(|| PAYSTACK_BASE_URL.to_string());
        let callback_url = url("PAYSTACK_CALLBACK_URL");
        let mut webhook_allowed_ips = Vec::new();
        for address in self
            .optional("PAYSTACK_WEBHOOK_ALLOWED_IPS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            match address.parse() {
                Ok(ip) => webhook_allowed_ips.push(ip),
                Err(_) => self.problems.push(format!(
                    "PAYSTACK_WEBHOOK_ALLOWED_IPS: {address:?} is not an IP address"
                )),
            }
        }
        Some(PaystackConfig {
            base_url,
            secret_key,
            callback_url,
            timeout: Duration::from_millis(u64::from(self.number("PAYSTACK_TIMEOUT_MS", 5000))),
            webhook_allowed_ips,
        })
    }

    fn seconds(&mut self, name: &str, default: u64) -> Duration {
        Duration::from_secs(u64::from(
            self.number(name, default.try_into().unwrap_or(u32::MAX)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn missing_variables_are_all_named_at_once() {
        let err = load(&[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("TABLE_NAME is not set"), "{text}");
        assert!(text.contains("JWT_SECRET"), "{text}");
    }

    #[test]
    fn defaults_apply_when_only_the_required_variables_are_set() {
        let config = load(&[("TABLE_NAME", "t"), ("JWT_SECRET", &"x".repeat(32))]).unwrap();
        assert_eq!(config.access_token_ttl, Duration::from_secs(1800));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(5400));
        assert_eq!(config.kitchen_zone.iana_name(), Some("Africa/Lagos"));
        assert!(config.google_client_ids.is_empty());
    }

    #[test]
    fn an_unknown_time_zone_is_named() {
        let err = load(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", &"x".repeat(32)),
            ("KITCHEN_TIMEZONE", "Mars/Olympus"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("KITCHEN_TIMEZONE"));
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let err = load(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(err.to_string().contains("at least 32"));
    }

    #[test]
    fn a_malformed_number_is_named() {
        let err = load(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", &"x".repeat(32)),
            ("LOGIN_MAX_FAILURES", "many"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("LOGIN_MAX_FAILURES"));
    }

    #[test]
    fn paystack_is_configured_only_with_a_secret_key() {
        let base = [("TABLE_NAME", "t"), ("JWT_SECRET", &*"x".repeat(32))];
        let config = load(&base).unwrap();
        assert!(config.paystack.is_none());
        assert!(
            config
                .require_paystack()
                .unwrap_err()
                .to_string()
                .contains("PAYSTACK_SECRET_KEY")
        );
        let config = load(&[base[0], base[1], ("PAYSTACK_SECRET_KEY", "sk_test_abc")]).unwrap();
        let paystack = config.require_paystack().unwrap();
        assert_eq!(paystack.base_url, PAYSTACK_BASE_URL);
        assert_eq!(paystack.timeout, Duration::from_secs(5));
        assert!(paystack.callback_url.is_none());
        assert!(paystack.webhook_allowed_ips.is_empty());
        assert!(!format!("{config:?}").contains("sk_test_abc"));
        let config = load(&[
            base[0],
            base[1],
            ("PAYSTACK_SECRET_PARAMETER", "/kitchen/paystack"),
            ("PAYSTACK_BASE_URL", "http://127.0.0.1:9100/"),
            ("PAYSTACK_CALLBACK_URL", "https://app.example/paid"),
            ("PAYSTACK_TIMEOUT_MS", "750"),
            (
                "PAYSTACK_WEBHOOK_ALLOWED_IPS",
                "52.31.139.75, 52.49.173.169",
            ),
        ])
        .unwrap();
        let paystack = config.paystack.unwrap();
        assert_eq!(paystack.base_url, "http://127.0.0.1:9100");
        assert!(matches!(paystack.secret_key, SecretSource::SsmParameter(_)));
        assert_eq!(paystack.timeout, Duration::from_millis(750));
        assert_eq!(paystack.webhook_allowed_ips.len(), 2);
    }

    #[test]
    fn malformed_paystack_settings_are_named() {
        let err = load(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", &"x".repeat(32)),
            ("PAYSTACK_SECRET_KEY", "sk_test_abc"),
            ("PAYSTACK_BASE_URL", "api.paystack.co"),
            ("PAYSTACK_WEBHOOK_ALLOWED_IPS", "52.31.139.75,somewhere"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("PAYSTACK_BASE_URL"), "{err}");
        assert!(err.contains("somewhere"), "{err}");
    }

    #[test]
    fn a_setting_the_function_reads_has_no_default() {
        let base = [("TABLE_NAME", "t"), ("JWT_SECRET", &*"x".repeat(32))];
        let lookup = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |name: &str| map.get(name).cloned()
        };
        let needs = [
            Setting::KitchenTimezone,
            Setting::UnpaidOrderExpiry,
            Setting::Topic,
            Setting::Paystack,
        ];
        let err = Config::for_function(&needs, lookup(&base))
            .unwrap_err()
            .to_string();
        for variable in [
            "KITCHEN_TIMEZONE",
            "UNPAID_ORDER_EXPIRY_SECONDS",
            "TOPIC_ARN",
            "PAYSTACK_SECRET_PARAMETER",
        ] {
            assert!(err.contains(variable), "{err}");
        }
        // The same variables are optional to a function that does not read them.
        assert!(Config::for_function(&[], lookup(&base)).is_ok());
        let all = [
            base[0],
            base[1],
            ("KITCHEN_TIMEZONE", "Africa/Lagos"),
            ("UNPAID_ORDER_EXPIRY_SECONDS", "600"),
            ("TOPIC_ARN", "arn:aws:sns:us-east-1:1:t"),
            ("PAYSTACK_SECRET_PARAMETER", "/p"),
        ];
        let config = Config::for_function(&needs, lookup(&all)).unwrap();
        assert_eq!(config.unpaid_order_expiry, Duration::from_secs(600));
        // Both kinds of problem are named together.
        let err = Config::for_function(&[Setting::Topic], lookup(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("TABLE_NAME") && err.contains("TOPIC_ARN"),
            "{err}"
        );
    }

    #[test]
    fn the_secret_may_come_from_an_ssm_parameter() {
        let config = load(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET_PARAMETER", "/kitchen/jwt"),
        ])
        .unwrap();
        assert!(
            matches!(config.jwt_secret, SecretSource::SsmParameter(ref p) if p == "/kitchen/jwt")
        );
        assert!(!format!("{config:?}").contains("xxxx"));
    }
}
