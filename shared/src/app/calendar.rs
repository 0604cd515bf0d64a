//! The kitchen's calendar and capacity: its settings (`GET /kitchen`, `PATCH /admin/kitchen`),
//! and the rules every order write obeys, whoever makes it — ordering for a date closes at its
//! cut-off, never on a closed date, and an order must fit the portions and day slots left (held in
//! the order's own transaction, see `db::capacity`).

use crate::{
    caller::AdminUser,
    db::{Counter, DayCounts, Db, Limits},
    domain::{Closed, Date, Dish, KitchenChange, KitchenSettings, Order},
    error::{ApiError, FieldError},
};
use serde::Serialize;
use time::OffsetDateTime;

/// Dates `GET /kitchen` lists as still taking orders.
const OPEN_DATES_SHOWN: usize = 7;

/// What the settings workflows use: the table, and the zone the defaults are in.
#[derive(Clone, Copy)]
pub struct Calendar<'a> {
    pub db: &'a Db,
    pub default_zone: &'a jiff::tz::TimeZone,
}

/// The settings as `GET /kitchen` shows them.
#[derive(Debug, Serialize)]
pub struct KitchenView {
    #[serde(flatten)]
    pub settings: KitchenSettings,
    /// The next dates (from today) that still take orders.
    pub next_open_dates: Vec<Date>,
}

impl KitchenView {
    pub fn of(settings: KitchenSettings, now: OffsetDateTime) -> Self {
        let next_open_dates = settings.next_open_dates(now, OPEN_DATES_SHOWN);
        Self {
            settings,
            next_open_dates,
        }
    }
}

/// The settings in force: as stored, or the defaults in `zone` until staff change them.
pub fn in_force(stored: Option<KitchenSettings>, zone: &jiff::tz::TimeZone) -> KitchenSettings {
    stored.unwrap_or_else(|| KitchenSettings::defaults(zone))
}

impl Calendar<'_> {
    /// The settings in force, with the dates still open.
    pub async fn settings(&self) -> Result<KitchenView, ApiError> {
        let stored = self.db.kitchen().await?;
        Ok(KitchenView::of(
            in_force(stored.settings, self.default_zone),
            crate::now(),
        ))
    }

    /// Changes the settings; a change that races another is applied again to what that one
    /// wrote.
    pub async fn change(
        &self,
        _admin: &AdminUser,
        change: KitchenChange,
    ) -> Result<KitchenView, ApiError> {
        for _ in 0..3 {
            let stored = self.db.kitchen().await?;
            let current = in_force(stored.settings.clone(), self.default_zone);
            let next = change
                .clone()
                .apply(current)
                .map_err(|(field, message)| ApiError::invalid_field(field, message))?;
            if self.db.put_kitchen(&stored, &next).await? {
                tracing::info!("kitchen settings changed");
                return Ok(KitchenView::of(next, crate::now()));
            }
        }
        Err(ApiError::Conflict(
            "the settings kept changing meanwhile; reload them and try again".into(),
        ))
    }
}

/// 422 unless `settings` take orders for `date` at `now`, saying when ordering for it closed.
pub fn check_open(
    settings: &KitchenSettings,
    date: Date,
    now: OffsetDateTime,
) -> Result<(), ApiError> {
    let message = match settings.takes_orders_for(date, now) {
        Ok(()) => return Ok(()),
        Err(Closed::ClosedDate) => format!("the kitchen is closed on {date}"),
        Err(Closed::CutOff(at)) => {
            let local = local_time(settings, at);
            format!("ordering for {date} closed at {local}")
        }
    };
    Err(ApiError::Unprocessable {
        detail: message.clone(),
        errors: vec![FieldError::new("delivery_date", message)],
    })
}

/// `at` as the kitchen's local time, `YYYY-MM-DD HH:MM` with its zone's name.
fn local_time(settings: &KitchenSettings, at: OffsetDateTime) -> String {
    let Ok(instant) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
        return at.to_string();
    };
    let local = instant.to_zoned_datetime(settings.timezone.zone());
    format!(
        "{} {}",
        local.strftime("%Y-%m-%d %H:%M"),
        settings.timezone.as_str()
    )
}

/// The limits an order for these dishes must fit: each limited dish's portions, and the day's cap.
pub fn limits(dishes: &[Dish], settings: &KitchenSettings) -> Limits {
    Limits {
        portions: dishes
            .iter()
            .filter_map(|dish| Some((dish.id.clone(), dish.daily_portions?.get())))
            .collect(),
        orders_per_day: settings.max_orders_per_day.map(|cap| cap.get()),
    }
}

/// The 422 for an order the kitchen has no room for: each of its lines of a dish without enough
/// portions left, and how many are, and the day's cap if it is reached. `full` names the counters
/// the table refused; what is left is read again, as the race may have moved on since.
pub async fn no_room(
    db: &Db,
    order: &Order,
    field: &str,
    limits: &Limits,
    full: &[Counter],
) -> ApiError {
    let date = order.delivery_date;
    let counts = db.day_counts(date).await.unwrap_or_else(|err| {
        tracing::warn!(error = %crate::error::cause_chain(&err), "the day's counters could not be read for the answer");
        DayCounts::default()
    });
    let mut errors = Vec::new();
    for (i, item) in order.items.iter().enumerate() {
        let Some(limit) = limits.portions.get(&item.dish_id) else {
            continue;
        };
        let left = limit.saturating_sub(counts.portions_of(&item.dish_id));
        let refused = full.contains(&Counter::Portions(date, item.dish_id.clone()));
        if refused || left < item.quantity.get() {
            errors.push(FieldError::new(
                format!("{field}[{i}].quantity"),
                format!(
                    "only {left} portions of {} are left for {date}",
                    item.dish_name
                ),
            ));
        }
    }
    if let Some(cap) = limits.orders_per_day
        && (full.contains(&Counter::Orders(date)) || counts.orders >= cap)
    {
        errors.push(FieldError::new(
            "delivery_date",
            format!("the kitchen takes no more orders for {date}: all {cap} are placed"),
        ));
    }
    if errors.is_empty() {
        // Freed meanwhile: still an answer the customer can act on.
        errors.push(FieldError::new(
            field,
            format!("the kitchen had no room for this order on {date}; try again"),
        ));
    }
    let detail = errors
        .iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    ApiError::Unprocessable { detail, errors }
}
