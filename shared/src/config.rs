//! The one configuration, read from the environment once per cold start.
//!
//! Endpoints and credentials for AWS come from the standard AWS variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL_DYNAMODB`, …) through `aws-config`; this struct holds the project's own.
//! Every missing or malformed variable is reported at once, by name.

use std::{env, fmt, time::Duration};

/// A secret read from the environment or SSM, or sent in a request (a password to check, a token);
/// never printed.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
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

/// The configuration of one function: the variables of the [`Setting`]s it reads, and the defaults
/// every function shares. What a function does not read stays `None` (or empty), and its cold start
/// builds nothing from it.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME` ([`Setting::Table`]); empty for a function that reads no table (the notifier).
    pub table_name: String,
    /// The Ed25519 private key that signs access tokens, PKCS#8 PEM ([`Setting::TokenSigningKey`]).
    pub token_signing_key: Option<SecretSource>,
    /// The public keys access tokens are checked with, one or two PEM blocks
    /// ([`Setting::TokenPublicKeys`]).
    pub token_public_keys: Option<SecretSource>,
    /// The key that signs page cursors, base64 of at least 32 random bytes ([`Setting::CursorKey`]).
    pub cursor_key: Option<SecretSource>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_max_age: Duration,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    /// Google sign-in ([`Setting::Google`]): the client ids it accepts and where Google's keys are.
    pub google: Option<GoogleConfig>,
    /// Account emails ([`Setting::Email`]): the sender, and the address the links point at.
    pub email: Option<EmailConfig>,
    /// The kitchen's time zone: "today" for the menu and delivery dates is the kitchen's today.
    pub kitchen_zone: jiff::tz::TimeZone,
    pub topic_arn: Option<String>,
    /// How long an order may stay unpaid before it is cancelled for payment timeout.
    pub unpaid_order_expiry: Duration,
    /// Paystack's API ([`Setting::Paystack`]): the payments function, the only one that calls it.
    pub paystack: Option<PaystackConfig>,
    /// Paystack's webhook ([`Setting::PaystackWebhook`]): the key its signatures are checked with.
    pub paystack_webhook: Option<WebhookConfig>,
    /// `KITCHEN_PHONE` ([`Setting::Sms`]): where staff get a text for every paid order.
    pub kitchen_phone: Option<crate::domain::PhoneNumber>,
    /// `SMS_SENDER_ID` ([`Setting::Sms`]): the alphanumeric sender shown on the customer's phone
    /// where the country supports one (1–11 letters and digits, at least one letter).
    pub sms_sender_id: Option<String>,
    /// `KITCHEN_ALERT_MINUTES`, `KITCHEN_ALERT_REPEATS` ([`Setting::KitchenAlerts`]): when the
    /// kitchen is reminded of a paid order nobody has started preparing.
    pub kitchen_alerts: KitchenAlerts,
}

/// The kitchen's reminders of a paid order left waiting: the first `every` after payment, then one
/// each `every` more while it stays paid, `repeats` at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KitchenAlerts {
    /// `KITCHEN_ALERT_MINUTES`: 1 to 1440 minutes, default 10.
    pub every: Duration,
    /// `KITCHEN_ALERT_REPEATS`: 0 to 10, default 3; 0 sends none.
    pub repeats: u32,
}

impl Default for KitchenAlerts {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(10 * 60),
            repeats: 3,
        }
    }
}

/// Google sign-in's settings.
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// `GOOGLE_CLIENT_IDS`: comma-separated; empty turns Google sign-in off.
    pub client_ids: Vec<String>,
    /// `GOOGLE_JWKS_URL`: Google's keys (a local JWKS in tests and `make dev`).
    pub jwks_url: String,
}

/// Account emails' settings.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `EMAIL_FROM`: the sender, an address verified in SES.
    pub from: crate::domain::Email,
    /// `PUBLIC_API_URL`: the API's address as a mail reader reaches it; the links start with it.
    pub public_api_url: String,
}

/// Paystack's webhook: our secret key (the signatures' key) and the source addresses it accepts.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// `PAYSTACK_SECRET_KEY` (locally) or `PAYSTACK_SECRET_PARAMETER` (an SSM SecureString in AWS).
    pub secret_key: SecretSource,
    /// `PAYSTACK_WEBHOOK_ALLOWED_IPS`: comma-separated source addresses the webhook accepts (behind
    /// API Gateway, `requestContext.http.sourceIp`); empty accepts any, the signature being the gate.
    pub allowed_ips: Vec<std::net::IpAddr>,
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

    /// The configuration of a function that reads `settings`, through `lookup` (tests supply their
    /// own variables). Only those settings' variables are read; each one a setting requires must be
    /// given, and every problem is named at once.
    pub fn for_function(
        settings: &[Setting],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let reads = |setting: Setting| settings.contains(&setting);
        let mut vars = Vars {
            lookup: &lookup,
            problems: Vec::new(),
        };
        for setting in [
            Setting::KitchenTimezone,
            Setting::UnpaidOrderExpiry,
            Setting::Topic,
        ] {
            if let Some(variable) = setting.required_variable()
                && reads(setting)
            {
                vars.required(variable);
            }
        }
        let table_name = if reads(Setting::Table) {
            vars.required("TABLE_NAME").unwrap_or_default()
        } else {
            String::new()
        };
        let token_signing_key = if reads(Setting::TokenSigningKey) {
            vars.secret("TOKEN_SIGNING_KEY", "TOKEN_SIGNING_KEY_PARAMETER")
        } else {
            None
        };
        let token_public_keys = if reads(Setting::TokenPublicKeys) {
            vars.secret("TOKEN_PUBLIC_KEYS", "TOKEN_PUBLIC_KEYS_PARAMETER")
        } else {
            None
        };
        let cursor_key = if reads(Setting::CursorKey) {
            vars.secret("CURSOR_KEY", "CURSOR_KEY_PARAMETER")
        } else {
            None
        };
        let (kitchen_phone, sms_sender_id) = if reads(Setting::Sms) {
            vars.sms()
        } else {
            (None, None)
        };
        let sessions = reads(Setting::Sessions);
        let config = Config {
            table_name,
            token_signing_key,
            token_public_keys,
            cursor_key,
            access_token_ttl: vars.seconds_if(sessions, "ACCESS_TOKEN_TTL_SECONDS", 30 * 60),
            refresh_token_ttl: vars.seconds_if(sessions, "REFRESH_TOKEN_TTL_SECONDS", 90 * 60),
            session_max_age: vars.seconds_if(sessions, "SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600),
            login_max_failures: if sessions {
                vars.number("LOGIN_MAX_FAILURES", 5)
            } else {
                5
            },
            login_lockout: vars.seconds_if(sessions, "LOGIN_LOCKOUT_SECONDS", 15 * 60),
            google: reads(Setting::Google).then(|| vars.google()),
            email: if reads(Setting::Email) {
                vars.email()
            } else {
                None
            },
            kitchen_zone: if reads(Setting::KitchenTimezone) {
                vars.time_zone("KITCHEN_TIMEZONE")
            } else {
                jiff::tz::TimeZone::UTC
            },
            topic_arn: if reads(Setting::Topic) {
                vars.optional("TOPIC_ARN")
            } else {
                None
            },
            unpaid_order_expiry: vars.seconds_if(
                reads(Setting::UnpaidOrderExpiry),
                "UNPAID_ORDER_EXPIRY_SECONDS",
                24 * 3600,
            ),
            paystack: if reads(Setting::Paystack) {
                vars.paystack()
            } else {
                None
            },
            paystack_webhook: if reads(Setting::PaystackWebhook) {
                vars.webhook()
            } else {
                None
            },
            kitchen_phone,
            sms_sender_id,
            kitchen_alerts: if reads(Setting::KitchenAlerts) {
                vars.kitchen_alerts()
            } else {
                KitchenAlerts::default()
            },
        };
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
/// [`crate::state::Function`]); its cold start reads only those, builds only what they configure,
/// and refuses to run without a variable one of them requires, naming it, so a template that
/// forgets to give a function one fails at once, as it would in AWS, instead of the function
/// quietly using a default that another function does not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `TABLE_NAME`: the table.
    Table,
    /// `TOKEN_SIGNING_KEY_PARAMETER` (or `TOKEN_SIGNING_KEY`): the private key that signs access
    /// tokens; the auth function alone.
    TokenSigningKey,
    /// `TOKEN_PUBLIC_KEYS_PARAMETER` (or `TOKEN_PUBLIC_KEYS`): the public keys access tokens are
    /// checked with; every function with a route that takes a token.
    TokenPublicKeys,
    /// `CURSOR_KEY_PARAMETER` (or `CURSOR_KEY`): the key of page cursors; the functions that list.
    CursorKey,
    /// `GOOGLE_CLIENT_IDS`, `GOOGLE_JWKS_URL`: Google sign-in (optional; none turns it off).
    Google,
    /// `ACCESS_TOKEN_TTL_SECONDS`, `REFRESH_TOKEN_TTL_SECONDS`, `SESSION_MAX_AGE_SECONDS`,
    /// `LOGIN_MAX_FAILURES`, `LOGIN_LOCKOUT_SECONDS` (all with defaults): issuing sessions.
    Sessions,
    /// `KITCHEN_TIMEZONE`: what "today" is for menus and delivery dates.
    KitchenTimezone,
    /// `UNPAID_ORDER_EXPIRY_SECONDS`: when an unpaid order counts as cancelled.
    UnpaidOrderExpiry,
    /// `TOPIC_ARN`: where order events are published.
    Topic,
    /// `PAYSTACK_SECRET_PARAMETER` (or `PAYSTACK_SECRET_KEY`) and the API's address, callback and
    /// timeout: the function that calls Paystack.
    Paystack,
    /// `PAYSTACK_SECRET_PARAMETER` (or `PAYSTACK_SECRET_KEY`) and `PAYSTACK_WEBHOOK_ALLOWED_IPS`:
    /// the function that checks Paystack's signatures.
    PaystackWebhook,
    /// `KITCHEN_PHONE`, `SMS_SENDER_ID` (both optional): the notifier's texts.
    Sms,
    /// `EMAIL_FROM`, `PUBLIC_API_URL`: account emails (verification and reset links) through SES.
    Email,
    /// `KITCHEN_ALERT_MINUTES`, `KITCHEN_ALERT_REPEATS` (both with defaults): the reminders of paid
    /// orders left waiting, which the orders function's scheduled job sends.
    KitchenAlerts,
}

impl Setting {
    /// What a function that places and moves orders reads (orders, admin): the table, the token
    /// public keys, the cursor key, the kitchen's today, the unpaid-order expiry, the topic its
    /// events go to, and Paystack's API (staff's cancels and refunds give money back; the sweep
    /// asks Paystack about an unpaid order's payments before it cancels the order).
    pub const ORDERING: &'static [Setting] = &[
        Setting::Table,
        Setting::TokenPublicKeys,
        Setting::CursorKey,
        Setting::KitchenTimezone,
        Setting::UnpaidOrderExpiry,
        Setting::Topic,
        Setting::Paystack,
    ];

    /// What the orders function reads: [`Setting::ORDERING`], and the kitchen's reminders (its
    /// scheduled job sends them).
    pub const ORDERS: &'static [Setting] = &[
        Setting::Table,
        Setting::TokenPublicKeys,
        Setting::CursorKey,
        Setting::KitchenTimezone,
        Setting::UnpaidOrderExpiry,
        Setting::Topic,
        Setting::Paystack,
        Setting::KitchenAlerts,
    ];

    /// The variable it cannot do without, if any.
    pub fn required_variable(self) -> Option<&'static str> {
        match self {
            Setting::Table => Some("TABLE_NAME"),
            Setting::TokenSigningKey => Some("TOKEN_SIGNING_KEY_PARAMETER"),
            Setting::TokenPublicKeys => Some("TOKEN_PUBLIC_KEYS_PARAMETER"),
            Setting::CursorKey => Some("CURSOR_KEY_PARAMETER"),
            Setting::KitchenTimezone => Some("KITCHEN_TIMEZONE"),
            Setting::UnpaidOrderExpiry => Some("UNPAID_ORDER_EXPIRY_SECONDS"),
            Setting::Topic => Some("TOPIC_ARN"),
            Setting::Paystack | Setting::PaystackWebhook => Some("PAYSTACK_SECRET_PARAMETER"),
            Setting::Email => Some("EMAIL_FROM"),
            Setting::Google | Setting::Sessions | Setting::Sms | Setting::KitchenAlerts => None,
        }
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

    /// A whole number within `range`, or `default` when unset; anything else is a problem.
    fn number_within(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> u32 {
        let Some(value) = self.optional(name) else {
            return default;
        };
        match value.trim().parse::<u32>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                self.problems.push(format!(
                    "{name} must be a whole number from {} to {}, not {value:?}",
                    range.start(),
                    range.end()
                ));
                default
            }
        }
    }

    /// `KITCHEN_ALERT_MINUTES` (1–1440: at most a day between reminders) and
    /// `KITCHEN_ALERT_REPEATS` (0–10: 0 turns them off; more than ten is nagging, not a reminder).
    fn kitchen_alerts(&mut self) -> KitchenAlerts {
        let default = KitchenAlerts::default();
        let minutes = self.number_within(
            "KITCHEN_ALERT_MINUTES",
            1..=1440,
            (default.every.as_secs() / 60) as u32,
        );
        KitchenAlerts {
            every: Duration::from_secs(u64::from(minutes) * 60),
            repeats: self.number_within("KITCHEN_ALERT_REPEATS", 0..=10, default.repeats),
        }
    }

    /// A required time zone (its absence is named by the required check).
    fn time_zone(&mut self, name: &str) -> jiff::tz::TimeZone {
        let Some(wanted) = self.optional(name) else {
            return jiff::tz::TimeZone::UTC;
        };
        jiff::tz::TimeZone::get(&wanted).unwrap_or_else(|_| {
            self.problems
                .push(format!("{name} is not a known time zone: {wanted:?}"));
            jiff::tz::TimeZone::UTC
        })
    }

    /// Paystack's API settings; the secret key is required.
    fn paystack(&mut self) -> Option<PaystackConfig> {
        let secret_key = self.secret("PAYSTACK_SECRET_KEY", "PAYSTACK_SECRET_PARAMETER")?;
        let base_url = self
            .url("PAYSTACK_BASE_URL")
            .unwrap_or_else(|| PAYSTACK_BASE_URL.to_string());
        let callback_url = self.url("PAYSTACK_CALLBACK_URL");
        Some(PaystackConfig {
            base_url,
            secret_key,
            callback_url,
            timeout: Duration::from_millis(u64::from(self.number("PAYSTACK_TIMEOUT_MS", 5000))),
        })
    }

    /// Paystack's webhook settings; the secret key is required.
    fn webhook(&mut self) -> Option<WebhookConfig> {
        let secret_key = self.secret("PAYSTACK_SECRET_KEY", "PAYSTACK_SECRET_PARAMETER")?;
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
        Some(WebhookConfig {
            secret_key,
            allowed_ips: webhook_allowed_ips,
        })
    }

    /// An optional http(s) URL, without a trailing slash; anything else is a problem.
    fn url(&mut self, name: &str) -> Option<String> {
        let value = self.optional(name)?;
        let trimmed = value.trim().trim_end_matches('/').to_string();
        if trimmed.starts_with("https://") || trimmed.starts_with("http://") {
            Some(trimmed)
        } else {
            self.problems
                .push(format!("{name} must be an http(s) URL, not {value:?}"));
            None
        }
    }

    /// The sender and the links' base address, both required.
    fn email(&mut self) -> Option<EmailConfig> {
        let from = self.required("EMAIL_FROM").and_then(|from| {
            crate::domain::Email::parse(&from)
                .map_err(|_| {
                    self.problems
                        .push(format!("EMAIL_FROM must be an email address, not {from:?}"))
                })
                .ok()
        });
        let public_api_url = self
            .required("PUBLIC_API_URL")
            .and_then(|_| self.url("PUBLIC_API_URL"));
        Some(EmailConfig {
            from: from?,
            public_api_url: public_api_url?,
        })
    }

    fn google(&mut self) -> GoogleConfig {
        GoogleConfig {
            client_ids: self
                .optional("GOOGLE_CLIENT_IDS")
                .map(|ids| {
                    ids.split(',')
                        .map(str::trim)
                        .filter(|id| !id.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            jwks_url: self
                .optional("GOOGLE_JWKS_URL")
                .unwrap_or_else(|| GOOGLE_JWKS_URL.to_string()),
        }
    }

    /// `KITCHEN_PHONE` and `SMS_SENDER_ID`, both optional; a malformed one is a problem.
    fn sms(&mut self) -> (Option<crate::domain::PhoneNumber>, Option<String>) {
        let kitchen_phone = self.optional("KITCHEN_PHONE").and_then(|raw| {
            crate::domain::PhoneNumber::parse(&raw)
                .map_err(|why| self.problems.push(format!("KITCHEN_PHONE {why}")))
                .ok()
        });
        let sender_id = self.optional("SMS_SENDER_ID").and_then(|raw| {
            let raw = raw.trim().to_string();
            let valid = (1..=11).contains(&raw.len())
                && raw.chars().all(|c| c.is_ascii_alphanumeric())
                && raw.chars().any(|c| c.is_ascii_alphabetic());
            if valid {
                Some(raw)
            } else {
                self.problems.push(
                    "SMS_SENDER_ID must be 1 to 11 letters and digits, at least one a letter"
                        .to_string(),
                );
                None
            }
        });
        (kitchen_phone, sender_id)
    }

    /// [`Vars::seconds`] if the function reads it, else the default.
    fn seconds_if(&mut self, reads: bool, name: &str, default: u64) -> Duration {
        if reads {
            self.seconds(name, default)
        } else {
            Duration::from_secs(default)
        }
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
        Config::for_function(&EVERY, |name| map.get(name).cloned())
    }

    /// Every setting but Paystack's, which [`paystack`] loads.
    const EVERY: [Setting; 5] = [
        Setting::Table,
        Setting::TokenSigningKey,
        Setting::Google,
        Setting::Sessions,
        Setting::Sms,
    ];

    /// As [`load`], for a function that reads `paystack` too.
    fn paystack(setting: Setting, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut settings = EVERY.to_vec();
        settings.push(setting);
        Config::for_function(&settings, |name| map.get(name).cloned())
    }

    #[test]
    fn missing_variables_are_all_named_at_once() {
        let err = load(&[]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("TABLE_NAME is not set"), "{text}");
        assert!(
            text.contains("neither TOKEN_SIGNING_KEY nor TOKEN_SIGNING_KEY_PARAMETER is set"),
            "{text}"
        );
    }

    #[test]
    fn defaults_apply_when_only_the_required_variables_are_set() {
        let config = load(&[("TABLE_NAME", "t"), ("TOKEN_SIGNING_KEY", "a PEM")]).unwrap();
        assert_eq!(config.access_token_ttl, Duration::from_secs(1800));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(5400));
        assert_eq!(config.login_max_failures, 5);
        assert!(config.google.unwrap().client_ids.is_empty());
    }

    #[test]
    fn an_unknown_time_zone_is_named() {
        let err = Config::for_function(&[Setting::KitchenTimezone], |name| {
            (name == "KITCHEN_TIMEZONE").then(|| "Mars/Olympus".to_string())
        })
        .unwrap_err();
        assert!(err.to_string().contains("KITCHEN_TIMEZONE"));
    }

    #[test]
    fn a_secret_sent_in_a_request_reads_as_its_text_and_never_prints() {
        let login: crate::app::sign_in::LoginRequest =
            serde_json::from_str(r#"{"email": "ada@example.com", "password": "hunter2 hunter2"}"#)
                .unwrap();
        assert_eq!(login.password.expose(), "hunter2 hunter2");
        assert!(!format!("{login:?}").contains("hunter2"));
        let change: crate::app::password::PasswordChange = serde_json::from_str(
            r#"{"current_password": "old secret 1", "new_password": "new secret 2"}"#,
        )
        .unwrap();
        let printed = format!("{change:?}");
        assert!(
            !printed.contains("old secret") && !printed.contains("new secret"),
            "{printed}"
        );
    }

    fn email_settings(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::for_function(&[Setting::Email], |name| map.get(name).cloned())
    }

    #[test]
    fn account_emails_need_a_sender_address_and_the_public_url() {
        let config = email_settings(&[
            ("EMAIL_FROM", "kitchen@example.com"),
            ("PUBLIC_API_URL", "https://api.example.com/"),
        ])
        .unwrap();
        let email = config.email.unwrap();
        assert_eq!(email.from.as_str(), "kitchen@example.com");
        assert_eq!(email.public_api_url, "https://api.example.com");
        let text = email_settings(&[]).unwrap_err().to_string();
        assert!(
            text.contains("EMAIL_FROM is not set") && text.contains("PUBLIC_API_URL is not set"),
            "{text}"
        );
        let text = email_settings(&[
            ("EMAIL_FROM", "kitchen"),
            ("PUBLIC_API_URL", "api.example.com"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("EMAIL_FROM must be an email address")
                && text.contains("PUBLIC_API_URL must be an http(s) URL"),
            "{text}"
        );
        // A function that sends no email reads neither.
        assert!(
            load(&[("TABLE_NAME", "t"), ("TOKEN_SIGNING_KEY", "a PEM")])
                .unwrap()
                .email
                .is_none()
        );
    }

    #[test]
    fn each_key_is_named_when_it_is_missing_and_read_only_where_listed() {
        let keys = [
            Setting::TokenSigningKey,
            Setting::TokenPublicKeys,
            Setting::CursorKey,
        ];
        let err = Config::for_function(&keys, |_| None)
            .unwrap_err()
            .to_string();
        for variable in ["TOKEN_SIGNING_KEY", "TOKEN_PUBLIC_KEYS", "CURSOR_KEY"] {
            let named = format!("neither {variable} nor {variable}_PARAMETER is set");
            assert!(err.contains(&named), "{err}");
        }
        let vars = |name: &str| match name {
            "TOKEN_SIGNING_KEY_PARAMETER" => Some("/k/signing".to_string()),
            "TOKEN_PUBLIC_KEYS" => Some("a PEM".to_string()),
            "CURSOR_KEY_PARAMETER" => Some("/k/cursor".to_string()),
            _ => None,
        };
        let config = Config::for_function(&keys, vars).unwrap();
        assert!(
            matches!(config.token_signing_key, Some(SecretSource::SsmParameter(ref p)) if p == "/k/signing")
        );
        assert!(matches!(
            config.token_public_keys,
            Some(SecretSource::Value(_))
        ));
        assert!(
            matches!(config.cursor_key, Some(SecretSource::SsmParameter(ref p)) if p == "/k/cursor")
        );
        // Each key is read only by a function that lists it.
        let verifying = Config::for_function(&[Setting::TokenPublicKeys], vars).unwrap();
        assert!(verifying.token_signing_key.is_none() && verifying.cursor_key.is_none());
        let listing = Config::for_function(&[Setting::CursorKey], vars).unwrap();
        assert!(listing.token_signing_key.is_none() && listing.token_public_keys.is_none());
        assert!(Setting::ORDERING.contains(&Setting::TokenPublicKeys));
        assert!(Setting::ORDERING.contains(&Setting::CursorKey));
        assert!(!Setting::ORDERING.contains(&Setting::TokenSigningKey));
    }

    #[test]
    fn a_malformed_number_is_named() {
        let err = load(&[
            ("TABLE_NAME", "t"),
            ("TOKEN_SIGNING_KEY", "a PEM"),
            ("LOGIN_MAX_FAILURES", "many"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("LOGIN_MAX_FAILURES"));
    }

    #[test]
    fn paystack_needs_its_secret_key_and_is_read_only_by_a_function_that_calls_it() {
        let base = [("TABLE_NAME", "t"), ("TOKEN_SIGNING_KEY", "a PEM")];
        let with_key = [base[0], base[1], ("PAYSTACK_SECRET_KEY", "sk_test_abc")];
        let config = load(&with_key).unwrap();
        assert!(config.paystack.is_none() && config.paystack_webhook.is_none());
        for setting in [Setting::Paystack, Setting::PaystackWebhook] {
            let err = paystack(setting, &base).unwrap_err().to_string();
            assert!(err.contains("PAYSTACK_SECRET_KEY"), "{err}");
        }
        let config = paystack(Setting::Paystack, &with_key).unwrap();
        assert!(config.paystack_webhook.is_none());
        let paystack_api = config.paystack.as_ref().unwrap();
        assert_eq!(paystack_api.base_url, PAYSTACK_BASE_URL);
        assert_eq!(paystack_api.timeout, Duration::from_secs(5));
        assert!(paystack_api.callback_url.is_none());
        assert!(!format!("{config:?}").contains("sk_test_abc"));
        let webhook = paystack(Setting::PaystackWebhook, &with_key)
            .unwrap()
            .paystack_webhook
            .unwrap();
        assert!(webhook.allowed_ips.is_empty());
        let vars = [
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
        ];
        let webhook = paystack(Setting::PaystackWebhook, &vars)
            .unwrap()
            .paystack_webhook
            .unwrap();
        assert_eq!(webhook.allowed_ips.len(), 2);
        let config = paystack(
            Setting::Paystack,
            &[
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
            ],
        )
        .unwrap();
        let paystack = config.paystack.unwrap();
        assert_eq!(paystack.base_url, "http://127.0.0.1:9100");
        assert!(matches!(paystack.secret_key, SecretSource::SsmParameter(_)));
        assert_eq!(paystack.timeout, Duration::from_millis(750));
    }

    #[test]
    fn malformed_paystack_settings_are_named() {
        let vars = [
            ("TABLE_NAME", "t"),
            ("TOKEN_SIGNING_KEY", "a PEM"),
            ("PAYSTACK_SECRET_KEY", "sk_test_abc"),
            ("PAYSTACK_BASE_URL", "api.paystack.co"),
            ("PAYSTACK_WEBHOOK_ALLOWED_IPS", "52.31.139.75,somewhere"),
        ];
        let err = paystack(Setting::Paystack, &vars).unwrap_err().to_string();
        assert!(err.contains("PAYSTACK_BASE_URL"), "{err}");
        let err = paystack(Setting::PaystackWebhook, &vars)
            .unwrap_err()
            .to_string();
        assert!(err.contains("somewhere"), "{err}");
    }

    #[test]
    fn a_function_without_the_token_key_reads_no_key() {
        let config = Config::for_function(&[Setting::Table], |name| {
            (name == "TABLE_NAME").then(|| "t".to_string())
        })
        .unwrap();
        assert!(config.token_signing_key.is_none() && config.google.is_none());
        assert!(config.token_public_keys.is_none() && config.cursor_key.is_none());
    }

    #[test]
    fn the_sms_settings_are_optional_and_checked() {
        let none = Config::for_function(&[Setting::Sms], |_| None).unwrap();
        assert!(none.kitchen_phone.is_none() && none.sms_sender_id.is_none());
        let sms = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::for_function(&[Setting::Sms], move |name| map.get(name).cloned())
        };
        let config = sms(&[
            ("KITCHEN_PHONE", "+2348099990000"),
            ("SMS_SENDER_ID", "Kitchen"),
        ])
        .unwrap();
        assert_eq!(config.kitchen_phone.unwrap().as_str(), "+2348099990000");
        assert_eq!(config.sms_sender_id.as_deref(), Some("Kitchen"));
        for (variable, value) in [
            ("KITCHEN_PHONE", "08099990000"),
            ("SMS_SENDER_ID", "Kitchen API!"),
            ("SMS_SENDER_ID", "123456"),
        ] {
            let err = sms(&[(variable, value)]).unwrap_err().to_string();
            assert!(err.contains(variable), "{err}");
        }
    }

    #[test]
    fn the_kitchen_reminders_default_to_three_ten_minutes_apart_and_are_checked() {
        let alerts = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Config::for_function(&[Setting::KitchenAlerts], move |name| {
                map.get(name).cloned()
            })
        };
        let defaults = alerts(&[]).unwrap().kitchen_alerts;
        assert_eq!(defaults.every, Duration::from_secs(600));
        assert_eq!(defaults.repeats, 3);
        let set = alerts(&[
            ("KITCHEN_ALERT_MINUTES", "1440"),
            ("KITCHEN_ALERT_REPEATS", "0"),
        ])
        .unwrap()
        .kitchen_alerts;
        assert_eq!(set.every, Duration::from_secs(24 * 3600));
        assert_eq!(set.repeats, 0, "0 turns the reminders off");
        for (variable, value) in [
            ("KITCHEN_ALERT_MINUTES", "0"),
            ("KITCHEN_ALERT_MINUTES", "1441"),
            ("KITCHEN_ALERT_MINUTES", "ten"),
            ("KITCHEN_ALERT_REPEATS", "11"),
            ("KITCHEN_ALERT_REPEATS", "-1"),
        ] {
            let err = alerts(&[(variable, value)]).unwrap_err().to_string();
            assert!(err.contains(variable) && err.contains(value), "{err}");
        }
        // Read only by a function that sends them: the orders function, not the admin's.
        let lookup = |name: &str| match name {
            "TABLE_NAME" => Some("t".to_string()),
            "KITCHEN_ALERT_MINUTES" => Some("0".to_string()),
            _ => None,
        };
        assert!(Config::for_function(&[Setting::Table], lookup).is_ok());
        assert_eq!(
            &Setting::ORDERS[..Setting::ORDERING.len()],
            Setting::ORDERING
        );
        assert!(Setting::ORDERS.contains(&Setting::KitchenAlerts));
        assert!(!Setting::ORDERING.contains(&Setting::KitchenAlerts));
    }

    #[test]
    fn a_setting_the_function_reads_has_no_default() {
        let base = [("TABLE_NAME", "t"), ("TOKEN_SIGNING_KEY", "a PEM")];
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
        let err = Config::for_function(&[Setting::Table, Setting::Topic], lookup(&[]))
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
            ("TOKEN_SIGNING_KEY_PARAMETER", "/kitchen/token-signing-key"),
        ])
        .unwrap();
        assert!(
            matches!(config.token_signing_key, Some(SecretSource::SsmParameter(ref p)) if p == "/kitchen/token-signing-key")
        );
        assert!(!format!("{config:?}").contains("xxxx"));
    }
}
