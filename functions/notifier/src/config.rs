//! The notifier's own configuration. It reads neither the table nor tokens, so it does not take the
//! shared `kitchen::Config` (which requires `TABLE_NAME` and `JWT_SECRET`): only the two variables
//! below, read once per cold start. A malformed value stops the cold start with the variable's name.

use kitchen::domain::PhoneNumber;
use std::env;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifierConfig {
    /// `KITCHEN_PHONE`: where staff get a text for every paid order. Unset or empty: no kitchen SMS.
    pub kitchen_phone: Option<PhoneNumber>,
    /// `SMS_SENDER_ID`: the alphanumeric sender shown on the customer's phone where the country
    /// supports one (1–11 letters and digits, at least one letter). Unset: the account's default.
    pub sender_id: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {}", .problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl NotifierConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can supply their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut problems = Vec::new();

        let kitchen_phone = read("KITCHEN_PHONE").and_then(|raw| {
            PhoneNumber::parse(&raw)
                .map_err(|why| problems.push(format!("KITCHEN_PHONE {why}")))
                .ok()
        });
        let sender_id = read("SMS_SENDER_ID").and_then(|raw| {
            let raw = raw.trim().to_string();
            let valid = (1..=11).contains(&raw.len())
                && raw.chars().all(|c| c.is_ascii_alphanumeric())
                && raw.chars().any(|c| c.is_ascii_alphabetic());
            if valid {
                Some(raw)
            } else {
                problems.push(
                    "SMS_SENDER_ID must be 1 to 11 letters and digits, at least one a letter"
                        .to_string(),
                );
                None
            }
        });

        if problems.is_empty() {
            Ok(Self {
                kitchen_phone,
                sender_id,
            })
        } else {
            Err(ConfigError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<NotifierConfig, ConfigError> {
        NotifierConfig::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn nothing_is_required() {
        assert_eq!(config(&[]).unwrap(), NotifierConfig::default());
        assert_eq!(
            config(&[("KITCHEN_PHONE", ""), ("SMS_SENDER_ID", " ")]).unwrap(),
            NotifierConfig::default()
        );
    }

    #[test]
    fn the_kitchen_phone_and_sender_are_read() {
        let config = config(&[
            ("KITCHEN_PHONE", "+2348099990000"),
            ("SMS_SENDER_ID", "Kitchen"),
        ])
        .unwrap();
        assert_eq!(config.kitchen_phone.unwrap().as_str(), "+2348099990000");
        assert_eq!(config.sender_id.as_deref(), Some("Kitchen"));
    }

    #[test]
    fn a_malformed_value_is_an_error_naming_its_variable() {
        let err = config(&[("KITCHEN_PHONE", "08099990000")]).unwrap_err();
        assert!(err.to_string().contains("KITCHEN_PHONE"), "{err}");
        let err = config(&[("SMS_SENDER_ID", "Kitchen API!")]).unwrap_err();
        assert!(err.to_string().contains("SMS_SENDER_ID"), "{err}");
        let err = config(&[("SMS_SENDER_ID", "123456")]).unwrap_err();
        assert!(err.to_string().contains("SMS_SENDER_ID"), "{err}");
    }
}
