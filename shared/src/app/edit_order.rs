//! Editing an unpaid order: its lines, delivery date or address. The lines are priced again at
//! today's prices, and the write is conditioned on the version read.

use super::{
    Orders, calendar,
    pricing::{self, LineRequest},
};
use crate::{
    caller::Credentials,
    db::Replaced,
    domain::Order,
    domain::{Address, Date, OrderNote, OrderStatus, Patch},
    error::ApiError,
};
use serde::Deserialize;

/// What a customer may change; what is left out stays as it is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditOrder {
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub items: Option<Vec<LineRequest>>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub delivery_date: Option<Date>,
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub delivery_address: Option<Address>,
    /// Special instructions: a new note, or `null` to drop it.
    #[serde(default)]
    pub note: Patch<OrderNote>,
}

impl Orders<'_> {
    /// Changes one of the caller's unpaid orders; 409 once it is paid or cancelled, or if it changed
    /// meanwhile. The customer's view of the order answers.
    pub async fn edit(
        &self,
        credentials: Credentials,
        id: &str,
        changes: EditOrder,
    ) -> Result<Order, ApiError> {
        self.edit_order(credentials, id, changes)
            .await
            .map(Order::for_customer)
    }

    async fn edit_order(
        &self,
        credentials: Credentials,
        id: &str,
        changes: EditOrder,
    ) -> Result<Order, ApiError> {
        if let Some(items) = &changes.items {
            pricing::check_lines(items)?;
        }
        let (_, stored) = self.own_order(credentials, id).await?;
        let now = crate::now();
        let current = stored
            .order
            .clone()
            .as_of(now, self.rules.unpaid_order_expiry);
        if current.status != OrderStatus::PendingPayment {
            return Err(ApiError::Conflict(format!(
                "an order that is {} cannot be changed",
                current.status.as_str()
            )));
        }
        let note = match changes.note {
            Patch::Absent => current.note.clone(),
            Patch::Null => None,
            Patch::Value(note) => Some(note),
        };
        if changes.items.is_none()
            && changes.delivery_date.is_none()
            && changes.delivery_address.is_none()
        {
            if note == current.note {
                return Ok(current);
            }
            // A note alone moves no portions and prices nothing: the kitchen reads it when it
            // cooks, so it may change until the order is paid, even after ordering closed.
            let mut next = current;
            next.note = note;
            next.updated_at = now;
            return match self.db.replace_order(&stored, &next).await? {
                true => Ok(next),
                false => Err(ApiError::Conflict(
                    "the order changed meanwhile; reload it and try again".into(),
                )),
            };
        }
        let date = changes.delivery_date.unwrap_or(current.delivery_date);
        let (lines, field) = match changes.items {
            Some(items) => (items, "items"),
            None => {
                let lines = current.items.iter().map(LineRequest::from).collect();
                (lines, "order.items")
            }
        };
        let ids: Vec<_> = lines.iter().map(|line| line.dish_id.clone()).collect();
        let (dishes, kitchen) = self.db.dishes_and_kitchen(&ids).await?;
        let kitchen = calendar::in_force(kitchen, &self.rules.kitchen_zone);
        pricing::check_delivery_date(date, kitchen.today(now))?;
        // The kitchen shops for a date once its ordering closes: the order as it stands is final
        // then, and a new date must still be open.
        calendar::check_open(&kitchen, current.delivery_date, now)?;
        calendar::check_open(&kitchen, date, now)?;
        let (items, total) = pricing::price(&dishes, &lines, date, field)?;
        let mut next = current.clone();
        next.items = items;
        next.total = total;
        next.delivery_date = date;
        next.note = note;
        if let Some(address) = changes.delivery_address {
            next.delivery_address = address;
        }
        next.updated_at = now;
        // The portions and day slot move with the order, atomically: old lines and date
        // released, new ones held within what is left.
        let limits = calendar::limits(&dishes, &kitchen);
        match self
            .db
            .replace_order_within(&stored, &next, &limits)
            .await?
        {
            Replaced::Done => Ok(next),
            Replaced::Raced => Err(ApiError::Conflict(
                "the order changed meanwhile; reload it and try again".into(),
            )),
            Replaced::Full(full) => {
                Err(calendar::no_room(self.db, &next, field, &limits, &full).await)
            }
        }
    }
}
