//! The kitchen's reminders: a paid order nobody has moved to `preparing` `every` after it was paid
//! (`KITCHEN_ALERT_MINUTES`) is texted to the kitchen again, and again each `every` more, at most
//! `repeats` times (`KITCHEN_ALERT_REPEATS`). A scheduled job of the orders function, run every
//! minute; moving the order along stops them.
//!
//! Each reminder is noted on its order before it is published, with a write conditioned on the
//! order still being paid and on the reminder not being noted yet: however many runs overlap, and
//! however often EventBridge delivers one, each reminder goes out once (unless its publish fails,
//! which is counted as `EventPublishFailed` like every lost event). A run that comes late (or
//! after runs that failed) sends the latest reminder due, not every one it missed.

use super::Orders;
use crate::{app::announce, config::KitchenAlerts, error::ApiError, events::KitchenReminder};
use std::time::Duration;
use time::OffsetDateTime;

/// How long after an unpaid order's deadline its payment may still be recorded: a charge made in
/// time whose word comes late (a webhook retried, or the sweep asking Paystack about payments
/// pending up to three days) pays the order when it is recorded.
const LATE_CHARGE: Duration = Duration::from_secs(72 * 3600);

/// What one run of the job did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminded {
    /// Paid orders the index listed as still due a reminder.
    pub waiting: usize,
    /// Reminders noted and published.
    pub sent: usize,
}

/// Which reminder of an order paid at `paid_at`, with `sent` sent so far, is due at `now`: the
/// latest whose time has come (the `n`th is due `n × every` after payment), if it has not been
/// sent and is within `repeats`. One only, however many were missed.
pub fn due(
    alerts: KitchenAlerts,
    paid_at: OffsetDateTime,
    sent: u32,
    now: OffsetDateTime,
) -> Option<u32> {
    let every = alerts.every.as_secs();
    let waited = (now - paid_at).whole_seconds();
    if every == 0 || waited < 0 {
        return None;
    }
    let reached = (waited as u64 / every).min(u64::from(alerts.repeats)) as u32;
    (reached > sent).then_some(reached)
}

/// How far back, by when they were placed, the job looks for paid orders: an order is paid at
/// most the unpaid-order expiry plus [`LATE_CHARGE`] after it was placed, and is reminded of for
/// `every × repeats` after that; one interval more lets a run that comes late still send the
/// last reminder. So the query's cost follows the orders of those few days, not the table.
pub fn look_back(alerts: KitchenAlerts, unpaid_order_expiry: Duration) -> Duration {
    unpaid_order_expiry + LATE_CHARGE + alerts.every * (alerts.repeats + 1)
}

impl Orders<'_> {
    /// One run of the reminder job.
    pub async fn remind_kitchen(&self) -> Result<Reminded, ApiError> {
        let alerts = self.rules.kitchen_alerts;
        if alerts.repeats == 0 {
            return Ok(Reminded::default());
        }
        let now = crate::now();
        let from = now - look_back(alerts, self.rules.unpaid_order_expiry);
        // An order paid `every` ago was placed before that.
        let waiting = self
            .db
            .paid_orders_waiting(from, now - alerts.every, alerts.repeats)
            .await?;
        let mut reminded = Reminded {
            waiting: waiting.len(),
            sent: 0,
        };
        for listed in waiting {
            let order = &listed.stored.order;
            let Some(paid_at) = order.paid_at else {
                continue;
            };
            let Some(number) = due(alerts, paid_at, listed.reminders_sent, now) else {
                continue;
            };
            // The index may list an order moved on since, or a reminder another run has sent:
            // the write's condition decides, on the order itself.
            let Some(noted) = self.db.record_kitchen_reminder(&order.id, number).await? else {
                continue;
            };
            let reminder = KitchenReminder {
                number,
                of: alerts.repeats,
                paid_at,
            };
            tracing::info!(order_id = %order.id, number, of = alerts.repeats, "paid order left waiting; the kitchen is reminded");
            let event = announce::reminder_event(&noted.stored.order, reminder, now);
            self.events.publish(&event).await;
            reminded.sent += 1;
        }
        tracing::info!(?reminded, "kitchen reminders done");
        Ok(reminded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const ALERTS: KitchenAlerts = KitchenAlerts {
        every: Duration::from_secs(600),
        repeats: 3,
    };

    fn at(minutes: i64, seconds: i64) -> OffsetDateTime {
        datetime!(2026-12-01 12:00 UTC)
            + time::Duration::minutes(minutes)
            + time::Duration::seconds(seconds)
    }

    #[test]
    fn the_first_reminder_is_due_one_interval_after_payment() {
        let paid = at(0, 0);
        assert_eq!(due(ALERTS, paid, 0, at(9, 59)), None);
        assert_eq!(due(ALERTS, paid, 0, at(10, 0)), Some(1));
        assert_eq!(due(ALERTS, paid, 1, at(11, 0)), None, "sent already");
        assert_eq!(due(ALERTS, paid, 1, at(20, 0)), Some(2));
        assert_eq!(due(ALERTS, paid, 2, at(30, 0)), Some(3));
    }

    #[test]
    fn no_more_than_the_repeats_are_due() {
        let paid = at(0, 0);
        assert_eq!(due(ALERTS, paid, 3, at(40, 0)), None);
        assert_eq!(due(ALERTS, paid, 3, at(24 * 60, 0)), None);
        let off = KitchenAlerts {
            repeats: 0,
            ..ALERTS
        };
        assert_eq!(due(off, paid, 0, at(60, 0)), None);
    }

    #[test]
    fn a_run_that_missed_some_sends_only_the_latest_due() {
        let paid = at(0, 0);
        assert_eq!(due(ALERTS, paid, 0, at(25, 0)), Some(2));
        assert_eq!(due(ALERTS, paid, 0, at(300, 0)), Some(3));
        assert_eq!(due(ALERTS, paid, 2, at(25, 0)), None);
    }

    #[test]
    fn a_payment_time_ahead_of_the_clock_is_not_due() {
        assert_eq!(due(ALERTS, at(5, 0), 0, at(0, 0)), None);
    }

    #[test]
    fn the_look_back_covers_expiry_late_charges_and_every_reminder() {
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(
            look_back(ALERTS, day),
            day + Duration::from_secs(72 * 3600) + Duration::from_secs(40 * 60)
        );
    }
}
