//! Domain newtypes, parsed once at the edge ("parse, don't validate").
//!
//! Each type's only way in is `parse` (also used by serde through `try_from`), so a handler holding an
//! `Email` never checks it again. A failed parse names what is wrong; the JSON extractor turns it into
//! a 400 with the field's path.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_newtype!(
    /// An email address, trimmed and lower-cased; stored and compared in that form.
    Email
);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let invalid = || Err("must be an email address like name@example.com".to_string());
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid();
        }
        let Some((local, domain)) = email.split_once('@') else {
            return invalid();
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return invalid();
        }
        Ok(Self(email))
    }
}

string_newtype!(
    /// A phone number in E.164 form: `+`, a country code and subscriber number, 8 to 15 digits.
    PhoneNumber
);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let phone = raw.trim();
        let digits = phone.strip_prefix('+').unwrap_or("");
        let ok = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(Self(phone.to_string()))
        } else {
            Err("must be an E.164 phone number like +2348012345678".to_string())
        }
    }
}

string_newtype!(
    /// A person's first or last name: 1 to 100 characters, not blank.
    PersonName
);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, 100).map(Self)
    }
}

string_newtype!(
    /// A delivery address: 1 to 500 characters, not blank.
    Address
);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, String> {
        bounded_text(raw, 500).map(Self)
    }
}

fn bounded_text(raw: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("must not be blank".to_string());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".to_string());
    }
    Ok(text.to_string())
}

/// A new password as a user chose it: 8 to 128 characters. Never printed.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if (Self::MIN..=Self::MAX).contains(&length) {
            Ok(Self(raw.to_string()))
        } else {
            Err(format!(
                "must be between {} and {} characters",
                Self::MIN,
                Self::MAX
            ))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Password {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Opaque, time-sortable identifiers (ULIDs).
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        string_newtype!($(#[$meta])* $name);

        impl $name {
            pub fn new() -> Self {
                Self(ulid::Ulid::new().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                match ulid::Ulid::from_string(raw) {
                    Ok(id) if id.to_string() == raw => Ok(Self(raw.to_string())),
                    _ => Err("is not a valid id".to_string()),
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

id_newtype!(UserId);
id_newtype!(SessionId);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Other,
    #[default]
    Unspecified,
}

/// A field of a PATCH body: absent (leave it), `null` (clear it) or a value (set it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Patch::Value(value),
            None => Patch::Null,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@@x.com",
            "ada@.com",
            "ada@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(PhoneNumber::parse("+2348012345678").is_ok());
        for bad in [
            "2348012345678",
            "+0348012345678",
            "+234 801 234",
            "+1234567",
            "+1234567890123456",
            "+23480abc5678",
            "",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn passwords_are_counted_in_characters_and_never_printed() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("hunter2hunter2").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn names_must_not_be_blank_or_too_long() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"a".repeat(101)).is_err());
        assert!(Address::parse("12 Marina Road\nLagos").is_ok());
        assert!(Address::parse("bell\u{7}").is_err());
    }

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = UserId::new();
        assert_eq!(UserId::parse(id.as_str()).unwrap(), id);
        assert!(UserId::parse("not-an-id").is_err());
        assert!(UserId::parse(&id.as_str().to_lowercase()).is_err());
    }

    #[test]
    fn patch_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            phone: Patch<PhoneNumber>,
        }
        let absent: Body = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.phone, Patch::Absent);
        let null: Body = serde_json::from_str(r#"{"phone": null}"#).unwrap();
        assert_eq!(null.phone, Patch::Null);
        let set: Body = serde_json::from_str(r#"{"phone": "+2348012345678"}"#).unwrap();
        assert!(matches!(set.phone, Patch::Value(_)));
        assert!(serde_json::from_str::<Body>(r#"{"phone": "123"}"#).is_err());
    }
}
