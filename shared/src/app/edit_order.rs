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
    domain::{Address, Date, OrderStatus},
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
}

impl Orders<'_> {
    /// Changes one of the caller's unpaid orders; 409 once it is paid or cancelled, or if it changed
    /// meanwhile.
    pub async fn edit(
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
        if changes.items.is_none()
            && changes.delivery_date.is_none()
            && changes.delivery_address.is_none()
        {
            return Ok(current);
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
