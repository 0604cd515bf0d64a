//! Domain newtypes, parsed once at the edge ("parse, don't validate").
//!
//! Each type's only way in is `parse` (also used by serde through `try_from`), so a handler holding an
//! `Email` never checks it again. A failed parse names what is wrong; the JSON extractor turns it into
//! a 400 with the field's path. The one exception is text read back from the table under rules
//! tightened since it was written ([`StoredText`]): the stored types take it as it is.

mod cart;
mod dish;
mod kitchen;
mod order;
mod payment;
mod refund;
mod user;

pub use cart::{Cart, CartEntry};
pub use dish::Dish;
pub use kitchen::{
    Closed, Cutoff, DailyLimit, KITCHEN_ZONES, KitchenChange, KitchenSettings, KitchenZone,
    LocalTime, MAX_CLOSED_DATES, ZoneName,
};
pub use order::{Order, OrderItem, PAYMENT_TIMEOUT, StatusChange};
pub use payment::{Dispute, DisputeStatus, Payment, PaymentNote, PaymentReference, PaymentStatus};
pub use refund::{CustomerRefund, Refund, RefundStatus, RequestedBy};
pub use user::{Session, User, UserProfile};

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// A person's first or last name: one line of 1 to 100 characters, not blank (see [`Lines::One`]).
    PersonName
);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        typed_text(raw, 100, Lines::One).map(Self)
    }
}

string_newtype!(
    /// A delivery address: one line of 1 to 500 characters, not blank (see [`Lines::One`]). Commas, not
    /// line breaks, separate its parts: it goes into SMS and the kitchen's dispatch list as one line.
    Address
);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, String> {
        typed_text(raw, 500, Lines::One).map(Self)
    }
}

string_newtype!(
    /// Why staff cancelled an order, shown to the customer: 1 to 500 characters, not blank; it may
    /// run over several lines (see [`Lines::Many`]).
    CancelReason
);

impl CancelReason {
    pub fn parse(raw: &str) -> Result<Self, String> {
        typed_text(raw, 500, Lines::Many).map(Self)
    }
}

string_newtype!(
    /// What the customer asks of the kitchen for one order ("no pepper, please"), or what staff
    /// note on a move: 1 to 280 characters, not blank; it may run over several lines (see
    /// [`Lines::Many`]). Shown to staff wherever the order is.
    OrderNote
);

impl OrderNote {
    pub const MAX: usize = 280;

    pub fn parse(raw: &str) -> Result<Self, String> {
        typed_text(raw, Self::MAX, Lines::Many).map(Self)
    }
}

string_newtype!(
    /// Why money is given back, for the back office and Paystack's merchant note: 1 to 500
    /// characters, not blank; it may run over several lines (see [`Lines::Many`]).
    RefundReason
);

impl RefundReason {
    pub fn parse(raw: &str) -> Result<Self, String> {
        typed_text(raw, 500, Lines::Many).map(Self)
    }
}

/// Which characters a kind of text may hold besides the visible ones.
///
/// Control characters (general category Cc: line feed, tab, carriage return, escape …) and format
/// characters (Cf: the bidirectional overrides and isolates U+202A–202E and U+2066–2069, the
/// zero-width characters U+200B–200F, U+FEFF, the soft hyphen, the invisible tag characters …)
/// are how a name smuggles an extra line into an SMS or makes text read differently on screen than
/// it is stored. Combining marks (Mn, Mc) are letters' accents and stay: "Ọ̀bí" is a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lines {
    /// A single line: no control character at all, no format character, and no line or paragraph
    /// separator (U+2028, U+2029), so it can be printed on one line of an SMS or a list.
    One,
    /// Free text that may run over several lines: line feeds (U+000A) only; no other control or
    /// format character.
    Many,
}

/// What `lines` finds wrong with `c`, if anything.
fn refused_character(c: char, lines: Lines) -> Option<&'static str> {
    use unicode_general_category::{GeneralCategory, get_general_category};
    match (get_general_category(c), lines) {
        (GeneralCategory::Control, Lines::Many) if c == '\n' => None,
        (
            GeneralCategory::Control
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator,
            Lines::One,
        ) => Some("must be a single line: no line breaks, tabs or other control characters"),
        (GeneralCategory::Control, Lines::Many) => {
            Some("must not contain control characters other than line breaks")
        }
        (GeneralCategory::Format, _) => Some(
            "must not contain invisible formatting characters (such as zero-width spaces or text \
             direction overrides)",
        ),
        _ => None,
    }
}

/// Text a person typed: trimmed of white space, not blank, at most `max` characters as sent (as the
/// OpenAPI document's `maxLength` counts them, white space included), and holding only what `lines`
/// allows anywhere in it (a refused character is refused even where trimming would drop it, as the
/// document's pattern does).
fn typed_text(raw: &str, max: usize, lines: Lines) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("must not be blank".to_string());
    }
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if let Some(refusal) = raw.chars().find_map(|c| refused_character(c, lines)) {
        return Err(refusal.to_string());
    }
    Ok(text.to_string())
}

/// Text types whose rules were tightened after values were stored under the old ones (names,
/// addresses and dish names once allowed line breaks and format characters). A value read back from
/// the table is taken as it was written, so an item stored before the rule still reads (no 500, and
/// a name claim keyed on it can still be found); only a request's value goes through `parse`. Used
/// only by the stored types' `deserialize_with` ([`stored`], [`stored_opt`]), never for input.
pub(crate) trait StoredText: Sized {
    fn from_stored(value: String) -> Self;
}

macro_rules! stored_text {
    ($($name:ident),*) => {$(
        impl StoredText for $name {
            fn from_stored(value: String) -> Self {
                Self(value)
            }
        }
    )*};
}
stored_text!(PersonName, Address, DishName, Description);

/// `deserialize_with` for a stored text field: the value as written (see [`StoredText`]).
pub(crate) fn stored<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: StoredText,
{
    String::deserialize(deserializer).map(T::from_stored)
}

/// [`stored`] for an optional field (use with `#[serde(default)]`).
pub(crate) fn stored_opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: StoredText,
{
    Option::<String>::deserialize(deserializer).map(|value| value.map(T::from_stored))
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

/// A new ULID, strictly greater than the last one this process made (plain ULIDs made in the same
/// millisecond sort at random), so "newest first" holds even for items made together.
fn next_ulid() -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
}

/// Opaque, time-sortable identifiers (ULIDs).
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        string_newtype!($(#[$meta])* $name);

        impl $name {
            pub fn new() -> Self {
                Self(next_ulid().to_string())
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

/// For an optional field that is not nullable, with `#[serde(default, deserialize_with = "non_null")]`:
/// absent is `None`, a value is `Some`, and `null` is refused as the wrong type (a plain `Option`
/// would read it as absent, which the OpenAPI document does not allow).
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
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
        assert!(Address::parse("bell\u{7}").is_err());
    }

    #[test]
    fn names_addresses_and_dish_names_are_one_line_of_visible_text() {
        for bad in [
            "Ada\nCALL +2348000000000",
            "Ada\r\nObi",
            "Ada\tObi",
            "Ada\n",
            "\u{1b}[2JAda",
            "Ada\u{85}Obi",
            "Ada\u{2028}Obi",
            "Ada\u{2029}Obi",
        ] {
            let refusal = PersonName::parse(bad).unwrap_err();
            assert!(refusal.contains("single line"), "{bad:?}: {refusal}");
            assert!(Address::parse(bad).is_err(), "{bad:?}");
            assert!(DishName::parse(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "Ada\u{202E}ibO",
            "\u{2066}Ada\u{2069}",
            "Ad\u{200B}a",
            "Ad\u{200D}a",
            "\u{FEFF}Ada",
            "Ada\u{AD}",
            "Ada\u{E0041}\u{E0042}",
            "Ada\u{180E}",
        ] {
            let refusal = PersonName::parse(bad).unwrap_err();
            assert!(refusal.contains("formatting"), "{bad:?}: {refusal}");
            assert!(Address::parse(bad).is_err(), "{bad:?}");
            assert!(DishName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Address::parse("12 Marina Road\nLagos").is_err());
        assert!(Address::parse("12 Marina Road, Lagos").is_ok());
    }

    #[test]
    fn accents_and_other_scripts_are_names() {
        // O with a dot below, then a combining grave accent: combining marks are part of the letter.
        for good in [
            "Ọ̀bí",
            "Ọ\u{300}bí",
            "Chukwuemeka",
            "Ñandú",
            "Zoë",
            "محمد",
            "李",
            "O'Neil-Smith",
        ] {
            assert_eq!(PersonName::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(
            PersonName::parse("\u{a0}Ada\u{3000}").unwrap().as_str(),
            "Ada"
        );
    }

    #[test]
    fn text_stored_before_the_rule_still_reads() {
        #[derive(Deserialize)]
        struct Stored {
            #[serde(deserialize_with = "stored")]
            name: PersonName,
            #[serde(default, deserialize_with = "stored_opt")]
            address: Option<Address>,
            #[serde(default, deserialize_with = "stored_opt")]
            missing: Option<Address>,
        }
        let stored: Stored = serde_json::from_str(
            r#"{"name": "Ada\nCALL +2348000000000", "address": "1 Marina\u202e"}"#,
        )
        .unwrap();
        assert_eq!(stored.name.as_str(), "Ada\nCALL +2348000000000");
        assert_eq!(stored.address.unwrap().as_str(), "1 Marina\u{202E}");
        assert!(stored.missing.is_none());
        // A request's value is parsed, never taken as stored.
        assert!(serde_json::from_str::<PersonName>(r#""Ada\nCALL""#).is_err());
    }

    proptest::proptest! {
        #[test]
        fn a_one_line_text_never_holds_a_control_or_format_character(raw in "\\PC*\\p{Cc}?\\p{Cf}?\\PC*") {
            use unicode_general_category::{GeneralCategory, get_general_category};
            if let Ok(name) = PersonName::parse(&raw) {
                let bad = name.as_str().chars().find(|&c| matches!(
                    get_general_category(c),
                    GeneralCategory::Control | GeneralCategory::Format
                        | GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator
                ));
                proptest::prop_assert_eq!(bad, None);
                proptest::prop_assert_eq!(name.as_str(), raw.trim());
            }
        }

        #[test]
        fn visible_text_with_combining_marks_is_kept_as_typed(
            letters in proptest::collection::vec(("[a-zA-Z\u{C0}-\u{24F}\u{1E00}-\u{1EFF}]", "[\u{300}-\u{36F}]?"), 1..20)
        ) {
            let raw: String = letters.iter().map(|(letter, mark)| format!("{letter}{mark}")).collect();
            proptest::prop_assert_eq!(PersonName::parse(&raw).map(String::from), Ok(raw.clone()));
            proptest::prop_assert_eq!(DishName::parse(&raw).map(String::from), Ok(raw));
        }
    }

    #[test]
    fn ids_made_together_still_sort_in_order() {
        let ids: Vec<UserId> = (0..200).map(|_| UserId::new()).collect();
        assert!(
            ids.windows(2)
                .all(|pair| pair[0].as_str() < pair[1].as_str())
        );
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

    #[test]
    fn non_null_tells_absent_from_null() {
        #[derive(Debug, Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "non_null")]
            gender: Option<Gender>,
        }
        assert_eq!(serde_json::from_str::<Body>("{}").unwrap().gender, None);
        let set: Body = serde_json::from_str(r#"{"gender": "male"}"#).unwrap();
        assert_eq!(set.gender, Some(Gender::Male));
        assert!(serde_json::from_str::<Body>(r#"{"gender": null}"#).is_err());
    }
}

id_newtype!(DishId);

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date(time::Date);

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Date {
    pub fn parse(raw: &str) -> Result<Self, String> {
        time::Date::parse(raw.trim(), DATE_FORMAT)
            .map(Self)
            .map_err(|_| "must be a date like 2026-11-24".to_string())
    }

    pub fn from_calendar(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = time::Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Self)
    }

    /// Today's date in `zone` (the kitchen's, for "orderable today"), by the one clock
    /// ([`crate::now`]). jiff is here only for its time-zone database; dates and times are `time`'s.
    pub fn today_in(zone: &jiff::tz::TimeZone) -> Self {
        Self::on_in(crate::now(), zone)
    }

    /// The date at instant `at` in `zone`.
    pub fn on_in(at: time::OffsetDateTime, zone: &jiff::tz::TimeZone) -> Self {
        let instant = jiff::Timestamp::from_second(at.unix_timestamp())
            .expect("a time the clock gives is within jiff's range");
        let day = zone.to_datetime(instant).date();
        Self::from_calendar(day.year().into(), day.month() as u8, day.day() as u8)
            .expect("jiff gives valid dates")
    }

    /// Year, month (1–12) and day of the month.
    pub fn calendar(self) -> (i32, u8, u8) {
        (self.0.year(), self.0.month() as u8, self.0.day())
    }

    /// How many days after `earlier` this date is (negative if before it).
    pub fn days_since(self, earlier: Date) -> i64 {
        (self.0 - earlier.0).whole_days()
    }

    /// The date `days` later (earlier if negative), saturating at the calendar's ends.
    pub fn add_days(self, days: i64) -> Self {
        Self(
            self.0
                .checked_add(time::Duration::days(days))
                .unwrap_or(self.0),
        )
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.format(DATE_FORMAT).map_err(|_| fmt::Error)?)
    }
}

impl TryFrom<String> for Date {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<Date> for String {
    fn from(value: Date) -> String {
        value.to_string()
    }
}

/// The only currency the kitchen sells in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Currency {
    #[default]
    #[serde(rename = "NGN")]
    Ngn,
}

impl Currency {
    pub fn as_str(self) -> &'static str {
        "NGN"
    }
}

/// A JSON number with no fractional part, however it is written: `14`, `14.0` and `1.4e1` are one
/// number to JSON (which has a single number type) and an `integer` to JSON Schema, so the OpenAPI
/// document allows all three wherever it says `integer`. `14.5` and `"14"` are refused. The count
/// types ([`Price`], [`Quantity`]) parse through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeNumber(pub i64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = WholeNumber;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number")
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<WholeNumber, E> {
                Ok(WholeNumber(value))
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<WholeNumber, E> {
                i64::try_from(value).map(WholeNumber).map_err(|_| {
                    E::invalid_value(serde::de::Unexpected::Unsigned(value), &"a smaller number")
                })
            }

            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<WholeNumber, E> {
                // 2^63 is the first float past i64::MAX; every float below it (and at or above
                // -2^63) with no fraction converts exactly.
                const LIMIT: f64 = 9_223_372_036_854_775_808.0;
                if value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value) {
                    Ok(WholeNumber(value as i64))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(value), &self))
                }
            }
        }

        deserializer.deserialize_i64(Visitor)
    }
}

/// An amount of money in the currency's minor unit (kobo for naira), as the API shows it (an
/// integer) and as Paystack takes it: totals, line totals, amounts paid. Sums of prices, so never
/// negative; arithmetic on it is only what pricing needs.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_minor_units(minor_units: i64) -> Self {
        Self(minor_units)
    }

    pub const fn minor_units(self) -> i64 {
        self.0
    }

    /// What is left of this amount once `other` is taken from it; never below zero.
    pub fn less(self, other: Money) -> Self {
        Self((self.0 - other.0).max(0))
    }

    /// `quantity` of this amount.
    pub fn times(self, quantity: Quantity) -> Self {
        Self(self.0 * i64::from(quantity.get()))
    }

    /// Naira with two decimals and nothing else (`12500.50`, `-3.05`): a number to a spreadsheet.
    pub fn decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let kobo = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", kobo / 100, kobo % 100)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(amounts: I) -> Money {
        amounts.fold(Money::ZERO, |sum, amount| sum + amount)
    }
}

impl From<Price> for Money {
    fn from(price: Price) -> Money {
        Money(price.0)
    }
}

impl fmt::Display for Money {
    /// Naira with two decimals and grouped thousands: `₦12,500.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let kobo = self.0.unsigned_abs();
        let whole = (kobo / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "{sign}₦{grouped}.{:02}", kobo % 100)
    }
}

/// A dish's unit price in the currency's minor unit (kobo): a whole number, more than zero, and at
/// most ₦1,000,000.00 a unit price, so totals of any cart or order fit comfortably in an i64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "WholeNumber", into = "i64")]
pub struct Price(i64);

impl Price {
    pub const MAX: i64 = 100_000_000;

    pub fn parse(minor_units: i64) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&minor_units) {
            Ok(Self(minor_units))
        } else {
            Err(format!(
                "must be a whole number of kobo from 1 to {}",
                Self::MAX
            ))
        }
    }

    pub fn minor_units(self) -> i64 {
        self.0
    }
}

impl TryFrom<WholeNumber> for Price {
    type Error = String;
    fn try_from(value: WholeNumber) -> Result<Self, String> {
        Self::parse(value.0)
    }
}

impl From<Price> for i64 {
    fn from(value: Price) -> i64 {
        value.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DishType {
    Breakfast,
    Lunch,
    Dinner,
    Dessert,
    Other,
}

impl DishType {
    pub fn as_str(self) -> &'static str {
        match self {
            DishType::Breakfast => "breakfast",
            DishType::Lunch => "lunch",
            DishType::Dinner => "dinner",
            DishType::Dessert => "dessert",
            DishType::Other => "other",
        }
    }
}

string_newtype!(
    /// A dish's name: one line of 1 to 100 characters (see [`Lines::One`]). Unique across dishes,
    /// ignoring case.
    DishName
);

impl DishName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        typed_text(raw, 100, Lines::One).map(Self)
    }

    /// The form uniqueness and search compare: lower-cased, inner white space folded.
    pub fn folded(&self) -> String {
        self.0
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

string_newtype!(
    /// A dish description: up to 1000 characters, trimmed, may be empty; it may run over several
    /// lines (see [`Lines::Many`]).
    Description
);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > 1000 {
            return Err("must be at most 1000 characters".to_string());
        }
        if let Some(refusal) = raw.chars().find_map(|c| refused_character(c, Lines::Many)) {
            return Err(refusal.to_string());
        }
        Ok(Self(raw.trim().to_string()))
    }
}

string_newtype!(
    /// A tag on a dish: up to 30 characters of lower-case words joined by dashes (`spicy`, `gluten-free`).
    /// Upper case is read as lower case; nothing else is tidied.
    Tag
);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tag = raw.to_lowercase();
        let word = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        };
        let ok = tag.len() <= 30 && tag.split('-').all(word);
        if ok {
            Ok(Self(tag))
        } else {
            Err(
                "must be up to 30 lower-case letters or digits, words joined by single dashes"
                    .to_string(),
            )
        }
    }
}

#[cfg(test)]
mod menu_tests {
    use super::*;

    #[test]
    fn the_date_is_the_zone_s_date_at_that_instant() {
        let lagos = jiff::tz::TimeZone::get("Africa/Lagos").unwrap();
        // 23:30 UTC is already tomorrow in Lagos (UTC+1).
        let late = time::macros::datetime!(2026-12-01 23:30 UTC);
        assert_eq!(Date::on_in(late, &lagos).to_string(), "2026-12-02");
        assert_eq!(
            Date::on_in(late, &jiff::tz::TimeZone::UTC).to_string(),
            "2026-12-01"
        );
    }

    #[test]
    fn amounts_are_naira_with_thousands_separators() {
        assert_eq!(Money::from_minor_units(350_000).to_string(), "₦3,500.00");
        assert_eq!(Money::from_minor_units(0).to_string(), "₦0.00");
        assert_eq!(Money::from_minor_units(5).to_string(), "₦0.05");
        assert_eq!(Money::from_minor_units(99_999).to_string(), "₦999.99");
        assert_eq!(Money::from_minor_units(100_000).to_string(), "₦1,000.00");
        assert_eq!(
            Money::from_minor_units(123_456_789).to_string(),
            "₦1,234,567.89"
        );
        assert_eq!(Money::from_minor_units(-250_050).to_string(), "-₦2,500.50");
    }

    #[test]
    fn dates_are_strict_iso_days() {
        assert_eq!(Date::parse("2026-11-24").unwrap().to_string(), "2026-11-24");
        for bad in [
            "2026-02-30",
            "24/11/2026",
            "2026-11-24T00:00:00Z",
            "",
            "2026-1-4",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Date::parse("2026-11-24").unwrap() < Date::parse("2026-11-25").unwrap());
        assert_eq!(
            Date::parse("2026-12-31").unwrap().add_days(1).to_string(),
            "2027-01-01"
        );
        assert_eq!(
            Date::parse("2026-03-01").unwrap().add_days(-1).to_string(),
            "2026-02-28"
        );
    }

    #[test]
    fn today_in_lagos_is_a_real_date() {
        let zone = jiff::tz::TimeZone::get("Africa/Lagos").unwrap();
        let today = Date::today_in(&zone);
        assert!(today.to_string().starts_with("20"));
    }

    #[test]
    fn prices_are_positive_bounded_kobo() {
        assert_eq!(Price::parse(250_000).unwrap().minor_units(), 250_000);
        assert!(Price::parse(0).is_err());
        assert!(Price::parse(-5).is_err());
        assert!(Price::parse(Price::MAX + 1).is_err());
        assert!(serde_json::from_str::<Price>("2500.5").is_err());
        assert_eq!(serde_json::to_string(&Currency::Ngn).unwrap(), "\"NGN\"");
        assert!(serde_json::from_str::<Currency>("\"USD\"").is_err());
    }

    #[test]
    fn counts_are_whole_numbers_however_json_writes_them() {
        for written in ["250000", "250000.0", "2.5e5", "250000e0"] {
            assert_eq!(
                serde_json::from_str::<Price>(written)
                    .unwrap()
                    .minor_units(),
                250_000,
                "{written}"
            );
        }
        assert_eq!(serde_json::from_str::<Quantity>("14.0").unwrap().get(), 14);
        for bad in ["2500.5", "\"2500\"", "1e300", "-0.5", "null"] {
            assert!(serde_json::from_str::<Price>(bad).is_err(), "{bad}");
        }
        for bad in ["0", "51", "-1", "1.5", "4294967297", "18446744073709551615"] {
            assert!(serde_json::from_str::<Quantity>(bad).is_err(), "{bad}");
        }
        let fraction = serde_json::from_str::<Quantity>("2.5").unwrap_err();
        assert!(
            fraction.to_string().contains("expected a whole number"),
            "{fraction}"
        );
    }

    #[test]
    fn descriptions_and_reasons_may_run_over_lines_but_hold_nothing_else_invisible() {
        let text = "Smoky party jollof.\nServed with plantain.";
        assert_eq!(Description::parse(text).unwrap().as_str(), text);
        assert_eq!(CancelReason::parse(text).unwrap().as_str(), text);
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert_eq!(Description::parse(" \n ").unwrap().as_str(), "");
        for bad in [
            "tab\there",
            "crlf\r\n",
            "\u{202E}reversed",
            "zero\u{200B}width",
            "esc\u{1b}",
        ] {
            assert!(Description::parse(bad).is_err(), "{bad:?}");
            assert!(CancelReason::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dish_names_fold_for_uniqueness() {
        assert_eq!(
            DishName::parse("  Jollof   Rice ").unwrap().folded(),
            "jollof rice"
        );
        assert!(DishName::parse("").is_err());
    }

    #[test]
    fn tags_are_short_slugs() {
        assert_eq!(Tag::parse("Spicy").unwrap().as_str(), "spicy");
        assert!(Tag::parse("gluten free").is_err());
        assert_eq!(Tag::parse("gluten-free").unwrap().as_str(), "gluten-free");
        for bad in ["-spicy", "spicy-", "a--b", ""] {
            assert!(Tag::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Tag::parse(&"a".repeat(31)).is_err());
        assert!(
            Tag::parse(" spicy").is_err(),
            "the document's pattern allows no spaces"
        );
    }
}

/// A page size: 1 to 100, 20 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PageLimit(u32);

impl PageLimit {
    pub fn parse(value: u32) -> Result<Self, String> {
        if (1..=100).contains(&value) {
            Ok(Self(value))
        } else {
            Err("must be from 1 to 100".to_string())
        }
    }

    pub fn get(self) -> usize {
        self.0 as usize
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(20)
    }
}

impl TryFrom<u32> for PageLimit {
    type Error = String;
    fn try_from(value: u32) -> Result<Self, String> {
        Self::parse(value)
    }
}

impl From<PageLimit> for u32 {
    fn from(value: PageLimit) -> u32 {
        value.0
    }
}

/// Search text from a query string: white space folded, lower-cased, not blank, at most 100
/// characters as sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if text.is_empty() {
            return Err("must not be blank".to_string());
        }
        if raw.chars().count() > 100 {
            return Err("must be at most 100 characters".to_string());
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SearchText {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

id_newtype!(OrderId);
id_newtype!(CartLineId);
id_newtype!(RefundId);

/// Where an order is in its life. The allowed moves are [`OrderStatus::can_move_to`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Preparing,
    OutForDelivery,
    Delivered,
    Cancelled,
}

/// Who moved an order along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Customer,
    Admin,
    /// A confirmed payment, or the sweep that cancels unpaid orders.
    System,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Preparing => "preparing",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// The order's life: pending_payment → paid → preparing → out_for_delivery → delivered;
    /// anyone may cancel an unpaid order, and only staff a paid or preparing one (a refund is then
    /// due). Payment is not a move anyone makes by hand: only a confirmed charge sets `paid`.
    pub fn can_move_to(self, next: OrderStatus, actor: Actor) -> bool {
        use OrderStatus::*;
        match (self, next) {
            (PendingPayment, Paid) => actor == Actor::System,
            (Paid, Preparing) | (Preparing, OutForDelivery) | (OutForDelivery, Delivered) => {
                actor == Actor::Admin
            }
            (PendingPayment, Cancelled) => true,
            (Paid | Preparing, Cancelled) => actor == Actor::Admin,
            _ => false,
        }
    }
}

#[cfg(test)]
mod order_status_tests {
    use super::{Actor::*, OrderStatus::*};

    #[test]
    fn orders_move_only_along_their_life() {
        assert!(PendingPayment.can_move_to(Paid, System));
        assert!(!PendingPayment.can_move_to(Paid, Admin));
        assert!(Paid.can_move_to(Preparing, Admin));
        assert!(Preparing.can_move_to(OutForDelivery, Admin));
        assert!(OutForDelivery.can_move_to(Delivered, Admin));
        assert!(!Paid.can_move_to(Delivered, Admin), "no skipping");
        assert!(!Delivered.can_move_to(Preparing, Admin), "no going back");
        assert!(
            !Preparing.can_move_to(Paid, System),
            "a late payment never moves an order back"
        );
        assert!(!Cancelled.can_move_to(Paid, System));
        assert!(!Paid.can_move_to(Paid, System));
    }

    #[test]
    fn cancelling_depends_on_who_and_when() {
        assert!(PendingPayment.can_move_to(Cancelled, Customer));
        assert!(PendingPayment.can_move_to(Cancelled, System));
        assert!(!Paid.can_move_to(Cancelled, Customer));
        assert!(Paid.can_move_to(Cancelled, Admin));
        assert!(Preparing.can_move_to(Cancelled, Admin));
        assert!(!OutForDelivery.can_move_to(Cancelled, Admin));
        assert!(!Delivered.can_move_to(Cancelled, Admin));
    }
}

/// How many of a dish one cart line or order line holds: 1 to 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "WholeNumber", into = "u32")]
pub struct Quantity(u8);

impl Quantity {
    pub const MAX: u32 = 50;

    pub fn parse(value: u32) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Self(value as u8))
        } else {
            Err(format!("must be from 1 to {}", Self::MAX))
        }
    }

    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl TryFrom<WholeNumber> for Quantity {
    type Error = String;
    fn try_from(value: WholeNumber) -> Result<Self, String> {
        u32::try_from(value.0)
            .ok()
            .and_then(|count| Self::parse(count).ok())
            .ok_or_else(|| format!("must be from 1 to {}", Self::MAX))
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> u32 {
        value.get()
    }
}

/// Who placed an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacedBy {
    Customer,
    Admin,
}

/// An `Idempotency-Key` header: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = (1..=255).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if ok && !raw.trim().is_empty() {
            Ok(Self(raw.to_string()))
        } else {
            Err("must be 1 to 255 visible ASCII characters".to_string())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
