//! The kitchen's calendar: its time zone, when ordering for a date closes, the dates it is closed,
//! and how many orders it takes a day; and the limits one order must fit (portions per dish and
//! day).

use super::{Date, WholeNumber};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A count the kitchen can cook or deliver in a day: 1 to 10,000 (portions of a dish, or orders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "WholeNumber", into = "u32")]
pub struct DailyLimit(u32);

impl DailyLimit {
    pub const MAX: u32 = 10_000;

    pub fn parse(value: u32) -> Result<Self, String> {
        if (1..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("must be from 1 to {}", Self::MAX))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<WholeNumber> for DailyLimit {
    type Error = String;
    fn try_from(value: WholeNumber) -> Result<Self, String> {
        u32::try_from(value.0)
            .ok()
            .and_then(|count| Self::parse(count).ok())
            .ok_or_else(|| format!("must be from 1 to {}", Self::MAX))
    }
}

impl From<DailyLimit> for u32 {
    fn from(value: DailyLimit) -> u32 {
        value.get()
    }
}

/// The time zones staff may give the kitchen: those of the countries Paystack serves, and UTC.
/// The OpenAPI document lists the same (a contract test holds them together).
pub const KITCHEN_ZONES: &[&str] = &[
    "Africa/Lagos",
    "Africa/Accra",
    "Africa/Abidjan",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Kigali",
    "Africa/Nairobi",
    "UTC",
];

/// A zone staff choose for the kitchen: one of [`KITCHEN_ZONES`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct KitchenZone(ZoneName);

impl TryFrom<String> for KitchenZone {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        if KITCHEN_ZONES.contains(&value.as_str()) {
            ZoneName::parse(&value).map(Self)
        } else {
            Err(format!("must be one of {}", KITCHEN_ZONES.join(", ")))
        }
    }
}

/// An IANA time zone name the time-zone database knows (`Africa/Lagos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZoneName(String);

impl ZoneName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let known = !raw.is_empty() && raw.len() <= 64 && jiff::tz::TimeZone::get(raw).is_ok();
        if known {
            Ok(Self(raw.to_string()))
        } else {
            Err("must be a time zone name such as Africa/Lagos".to_string())
        }
    }

    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ZoneName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<ZoneName> for String {
    fn from(value: ZoneName) -> String {
        value.0
    }
}

/// A time of day, `HH:MM` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime {
    hour: u8,
    minute: u8,
}

impl LocalTime {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || "must be a time like 18:00 (HH:MM, 24-hour)".to_string();
        let (hour, minute) = raw.split_once(':').ok_or_else(bad)?;
        if hour.len() != 2 || minute.len() != 2 {
            return Err(bad());
        }
        let hour: u8 = hour.parse().map_err(|_| bad())?;
        let minute: u8 = minute.parse().map_err(|_| bad())?;
        if hour > 23 || minute > 59 {
            return Err(bad());
        }
        Ok(Self { hour, minute })
    }
}

impl TryFrom<String> for LocalTime {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> String {
        format!("{:02}:{:02}", value.hour, value.minute)
    }
}

/// When ordering for a date closes: `days_before` it, at `time` in the kitchen's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cutoff {
    pub days_before: CutoffDays,
    pub time: LocalTime,
}

/// Days before the delivery date that ordering closes: 0 to 14.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WholeNumber", into = "u32")]
pub struct CutoffDays(u8);

impl CutoffDays {
    pub const MAX: u32 = 14;
}

impl TryFrom<WholeNumber> for CutoffDays {
    type Error = String;
    fn try_from(value: WholeNumber) -> Result<Self, String> {
        match u8::try_from(value.0) {
            Ok(days) if u32::from(days) <= Self::MAX => Ok(Self(days)),
            _ => Err(format!("must be from 0 to {}", Self::MAX)),
        }
    }
}

impl From<CutoffDays> for u32 {
    fn from(value: CutoffDays) -> u32 {
        u32::from(value.0)
    }
}

/// Closed dates the settings may hold.
pub const MAX_CLOSED_DATES: usize = 366;

/// The kitchen's calendar, as stored (one item) and as `GET /kitchen` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KitchenSettings {
    pub timezone: ZoneName,
    pub order_cutoff: Cutoff,
    /// Orders taken per delivery date (those not cancelled); none for no cap.
    pub max_orders_per_day: Option<DailyLimit>,
    /// Dates the kitchen takes no orders for, in order.
    pub closed_dates: Vec<Date>,
}

/// Why a date takes no orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// The kitchen is closed that day.
    ClosedDate,
    /// Ordering for it closed at this instant.
    CutOff(OffsetDateTime),
}

impl KitchenSettings {
    /// The settings until staff change them: a date takes orders until its own end (23:59) in
    /// `zone`, no closed dates, no cap — the kitchen as it behaved before it had a calendar.
    pub fn defaults(zone: &jiff::tz::TimeZone) -> Self {
        // The deployment's zone (`KITCHEN_TIMEZONE`), whichever the database knows.
        let name = zone.iana_name().unwrap_or("UTC");
        Self {
            timezone: ZoneName::parse(name).unwrap_or_else(|_| ZoneName("UTC".into())),
            order_cutoff: Cutoff {
                days_before: CutoffDays(0),
                time: LocalTime {
                    hour: 23,
                    minute: 59,
                },
            },
            max_orders_per_day: None,
            closed_dates: Vec::new(),
        }
    }

    /// The instant ordering for `date` closes: `days_before` it at `time`, kitchen time (the
    /// latest instant of that local minute, so `23:59` takes orders until the day's end).
    pub fn closes_at(&self, date: Date) -> OffsetDateTime {
        let day = date.add_days(-i64::from(self.order_cutoff.days_before.0));
        let (year, month, dom) = day.calendar();
        let local = jiff::civil::date(year as i16, month as i8, dom as i8).at(
            self.order_cutoff.time.hour as i8,
            self.order_cutoff.time.minute as i8,
            59,
            0,
        );
        let seconds = local
            .to_zoned_datetime(self.timezone.zone())
            .map(|zoned| zoned.timestamp().as_second())
            .unwrap_or(i64::MAX / 4);
        OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Whether an order for delivery on `date` may be written at `now`.
    pub fn takes_orders_for(&self, date: Date, now: OffsetDateTime) -> Result<(), Closed> {
        if self.closed_dates.binary_search(&date).is_ok() {
            return Err(Closed::ClosedDate);
        }
        let closes = self.closes_at(date);
        if now > closes {
            return Err(Closed::CutOff(closes));
        }
        Ok(())
    }

    /// The kitchen's today at `now`.
    pub fn today(&self, now: OffsetDateTime) -> Date {
        Date::on_in(now, &self.timezone.zone())
    }

    /// The next `count` dates, from today on, that still take orders at `now` (searching a year
    /// ahead at most).
    pub fn next_open_dates(&self, now: OffsetDateTime, count: usize) -> Vec<Date> {
        let today = self.today(now);
        (0..=366)
            .map(|days| today.add_days(days))
            .filter(|date| self.takes_orders_for(*date, now).is_ok())
            .take(count)
            .collect()
    }
}

/// A change to the settings (`PATCH /admin/kitchen`): what is left out stays as it is;
/// `max_orders_per_day: null` lifts the cap.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitchenChange {
    #[serde(default, deserialize_with = "super::non_null")]
    pub timezone: Option<KitchenZone>,
    #[serde(default, deserialize_with = "super::non_null")]
    pub order_cutoff: Option<Cutoff>,
    #[serde(default, with = "serde_with_null")]
    pub max_orders_per_day: Option<Option<DailyLimit>>,
    #[serde(default, deserialize_with = "super::non_null")]
    pub closed_dates: Option<Vec<Date>>,
}

/// `Option<Option<T>>`: absent → `None`, `null` → `Some(None)`.
mod serde_with_null {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

impl KitchenChange {
    /// The settings with this change applied; the field that cannot be taken, and why, otherwise.
    pub fn apply(self, mut settings: KitchenSettings) -> Result<KitchenSettings, (String, String)> {
        if let Some(KitchenZone(zone)) = self.timezone {
            settings.timezone = zone;
        }
        if let Some(cutoff) = self.order_cutoff {
            settings.order_cutoff = cutoff;
        }
        if let Some(cap) = self.max_orders_per_day {
            settings.max_orders_per_day = cap;
        }
        if let Some(mut dates) = self.closed_dates {
            if dates.len() > MAX_CLOSED_DATES {
                return Err((
                    "closed_dates".into(),
                    format!("must hold at most {MAX_CLOSED_DATES} dates"),
                ));
            }
            dates.sort();
            dates.dedup();
            settings.closed_dates = dates;
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn lagos() -> KitchenSettings {
        KitchenSettings::defaults(&jiff::tz::TimeZone::get("Africa/Lagos").unwrap())
    }

    fn date(raw: &str) -> Date {
        Date::parse(raw).unwrap()
    }

    #[test]
    fn by_default_a_date_takes_orders_until_its_own_end_in_the_kitchens_zone() {
        let settings = lagos();
        assert_eq!(settings.timezone.as_str(), "Africa/Lagos");
        // 23:59:59 in Lagos (UTC+1) is 22:59:59 UTC.
        assert_eq!(
            settings.closes_at(date("2026-12-04")),
            datetime!(2026-12-04 22:59:59 UTC)
        );
        assert!(
            settings
                .takes_orders_for(date("2026-12-04"), datetime!(2026-12-04 22:59:59 UTC))
                .is_ok()
        );
        assert_eq!(
            settings.takes_orders_for(date("2026-12-04"), datetime!(2026-12-04 23:00:00 UTC)),
            Err(Closed::CutOff(datetime!(2026-12-04 22:59:59 UTC)))
        );
    }

    #[test]
    fn a_cutoff_days_before_at_a_local_time_and_closed_dates_close_ordering() {
        let settings = KitchenChange {
            order_cutoff: Some(
                serde_json::from_str(r#"{"days_before": 1, "time": "18:00"}"#).unwrap(),
            ),
            closed_dates: Some(vec![
                date("2026-12-25"),
                date("2026-12-24"),
                date("2026-12-25"),
            ]),
            max_orders_per_day: Some(Some(DailyLimit::parse(30).unwrap())),
            ..KitchenChange::default()
        }
        .apply(lagos())
        .unwrap();
        assert_eq!(
            settings.closed_dates,
            [date("2026-12-24"), date("2026-12-25")]
        );
        // Friday's orders close on Thursday at 18:00 Lagos time (17:00 UTC).
        let friday = date("2026-12-04");
        assert!(
            settings
                .takes_orders_for(friday, datetime!(2026-12-03 17:00:59 UTC))
                .is_ok()
        );
        assert!(matches!(
            settings.takes_orders_for(friday, datetime!(2026-12-03 17:01:00 UTC)),
            Err(Closed::CutOff(_))
        ));
        assert_eq!(
            settings.takes_orders_for(date("2026-12-25"), datetime!(2026-12-01 09:00 UTC)),
            Err(Closed::ClosedDate)
        );
        // On 23 December at noon: the 23rd and 24th are closed (cut-off passed, closed), so is the 25th.
        let next = settings.next_open_dates(datetime!(2026-12-23 12:00 UTC), 3);
        assert_eq!(
            next,
            [date("2026-12-26"), date("2026-12-27"), date("2026-12-28")]
        );
    }

    #[test]
    fn bad_settings_are_refused_by_field() {
        for (body, field) in [
            (r#"{"timezone": "Mars/Olympus"}"#, "timezone"),
            (r#"{"timezone": "Europe/London"}"#, "timezone"),
            (
                r#"{"order_cutoff": {"days_before": 15, "time": "18:00"}}"#,
                "days_before",
            ),
            (
                r#"{"order_cutoff": {"days_before": 1, "time": "24:00"}}"#,
                "time",
            ),
            (
                r#"{"order_cutoff": {"days_before": 1, "time": "6pm"}}"#,
                "time",
            ),
            (r#"{"max_orders_per_day": 0}"#, "max_orders_per_day"),
            (r#"{"closed_dates": ["2026-02-30"]}"#, "closed_dates"),
        ] {
            let error = serde_json::from_str::<KitchenChange>(body)
                .unwrap_err()
                .to_string();
            assert!(!error.is_empty(), "{field}: {body}");
        }
        let lifted: KitchenChange =
            serde_json::from_str(r#"{"max_orders_per_day": null}"#).unwrap();
        assert_eq!(lifted.max_orders_per_day, Some(None));
        let kept: KitchenChange = serde_json::from_str("{}").unwrap();
        assert_eq!(kept.max_orders_per_day, None);
        let many = KitchenChange {
            closed_dates: Some(vec![date("2026-12-25"); MAX_CLOSED_DATES + 1]),
            ..KitchenChange::default()
        };
        assert_eq!(many.apply(lagos()).unwrap_err().0, "closed_dates");
    }
}
