//! The staff's orders: placing one for a customer (phone orders included; the customer gets the
//! SMS), the dispatch list, one order, and moving orders along.

use super::{
    Orders, calendar,
    idempotency::{Idempotency, Outcome},
    move_order::Mover,
    place_order::Placing,
    pricing::{self, LineRequest},
};
use crate::caller::StaffClaim;
use crate::{
    caller::AdminUser,
    db::{IdempotentRequest, OrderFilter, Page, StoredOrder},
    domain::Order,
    domain::{
        Actor, Address, CancelReason, Date, IdempotencyKey, OrderId, OrderNote, OrderStatus, UserId,
    },
    error::{ApiError, FieldError},
};
use serde::{Deserialize, Serialize};

const SCOPE: &str = "POST /admin/orders";

/// An order staff place for a customer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffOrder {
    pub user_id: UserId,
    pub items: Vec<LineRequest>,
    pub delivery_date: Date,
    pub delivery_address: Address,
    /// The customer's special instructions, as staff took them down.
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub note: Option<OrderNote>,
}

/// The statuses staff move an order to; `paid` comes only from a confirmed payment.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffStatus {
    Preparing,
    OutForDelivery,
    Delivered,
    Cancelled,
}

impl From<StaffStatus> for OrderStatus {
    fn from(status: StaffStatus) -> Self {
        match status {
            StaffStatus::Preparing => OrderStatus::Preparing,
            StaffStatus::OutForDelivery => OrderStatus::OutForDelivery,
            StaffStatus::Delivered => OrderStatus::Delivered,
            StaffStatus::Cancelled => OrderStatus::Cancelled,
        }
    }
}

/// A move staff ask for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: StaffStatus,
    /// Why the order is cancelled (only with `cancelled`).
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub reason: Option<CancelReason>,
    /// What the staff member notes on the move, kept in the order's history.
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub note: Option<OrderNote>,
}

impl Orders<'_> {
    /// Places `request` for its customer, who must exist and be active (422 otherwise).
    pub async fn place_for_customer(
        &self,
        admin: &AdminUser,
        key: Option<IdempotencyKey>,
        request: StaffOrder,
    ) -> Result<Outcome<Order>, ApiError> {
        pricing::check_lines(&request.items)?;
        let idempotent =
            key.map(|key| IdempotentRequest::new(admin.0.id().clone(), SCOPE, key, &request));
        let run = Idempotency::new(self.db, idempotent);
        if let Some(first) = run.first_answer().await? {
            return Ok(Outcome::Replayed(first));
        }
        let ids: Vec<_> = request
            .items
            .iter()
            .map(|line| line.dish_id.clone())
            .collect();
        // The customer, the dishes and the kitchen's settings: independent reads, one round trip.
        let (customer, dishes) = tokio::join!(
            self.db.get_user(&request.user_id),
            self.db.dishes_and_kitchen(&ids)
        );
        let (dishes, kitchen) = dishes?;
        let now = crate::now();
        let kitchen = calendar::in_force(kitchen, &self.rules.kitchen_zone);
        pricing::check_delivery_date(request.delivery_date, kitchen.today(now))?;
        calendar::check_open(&kitchen, request.delivery_date, now)?;
        let customer = customer?.filter(|u| u.active).ok_or_else(|| {
            let message = format!("no active customer {}", request.user_id);
            ApiError::Unprocessable {
                detail: message.clone(),
                errors: vec![FieldError::new("user_id", message)],
            }
        })?;
        let (items, total) =
            pricing::price(&dishes, &request.items, request.delivery_date, "items")?;
        let order = Order {
            note: request.note,
            ..pricing::new_order(
                &customer,
                items,
                total,
                request.delivery_date,
                request.delivery_address,
                Actor::Admin,
                now,
            )
        }
        .noted(Some(admin.0.id().clone()), None);
        let limits = calendar::limits(&dishes, &kitchen);
        let placing = Placing {
            customer: &customer,
            cart_version: None,
            field: "items",
            limits: &limits,
        };
        self.commit(order, placing, &run).await
    }

    /// Every order matching `filter`, newest first; by delivery date, the day's dispatch list.
    pub async fn list_all(
        &self,
        _staff: StaffClaim,
        filter: &OrderFilter,
        limit: usize,
        start: Option<crate::db::Item>,
    ) -> Result<Page<Order>, ApiError> {
        let page = self.db.all_orders(filter, limit, start).await?;
        Ok(self.reading_now(page, filter.status))
    }

    /// Any order, as it reads now.
    pub async fn get_any(&self, _staff: StaffClaim, id: &str) -> Result<Order, ApiError> {
        Ok(self.as_of_now(self.find(id).await?.order))
    }

    /// Moves an order along as staff; a move it cannot make, or a race lost, is 409. Asking for
    /// the status the order already has answers it unchanged: a retry of a move that went
    /// through (its answer lost) is not an error.
    /// `stored` is the order as [`Orders::get_stored`] read it, beside the staff check.
    pub async fn set_status(
        &self,
        admin: &AdminUser,
        stored: StoredOrder,
        change: StatusChange,
    ) -> Result<Order, ApiError> {
        let next = OrderStatus::from(change.status);
        let reason = match change.reason {
            None => None,
            Some(_) if next != OrderStatus::Cancelled => {
                return Err(ApiError::invalid_field("reason", "is only for cancelling"));
            }
            Some(reason) => Some(String::from(reason)),
        };
        let current = self.as_of_now(stored.order.clone());
        if current.status == next {
            return Ok(current);
        }
        let by = Mover {
            actor: Actor::Admin,
            admin_id: Some(admin.0.id().clone()),
            note: change.note,
        };
        self.move_order(&stored, next, by, reason).await
    }

    /// Any order as stored (with its version), for a change staff make to it.
    pub async fn get_stored(&self, _staff: StaffClaim, id: &str) -> Result<StoredOrder, ApiError> {
        self.find(id).await
    }

    async fn find(&self, id: &str) -> Result<StoredOrder, ApiError> {
        let not_found = || ApiError::NotFound("no such order".into());
        let id = OrderId::parse(id).map_err(|_| not_found())?;
        self.db.get_order(&id).await?.ok_or_else(not_found)
    }
}
