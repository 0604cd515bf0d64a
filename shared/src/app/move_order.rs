//! Moving an order along its life (`Order::moved_to` says which moves are allowed): the customer's
//! cancel, and the staff's moves. Each write is conditioned on the version and status read, so of
//! two racing changes one wins and the other is a 409; each committed move is announced.

use super::Orders;
use crate::{
    caller::Credentials,
    db::StoredOrder,
    domain::Order,
    domain::{Actor, OrderNote, OrderStatus, UserId},
    error::ApiError,
};

/// Who moves an order, and what they note on the move.
#[derive(Debug, Clone)]
pub struct Mover {
    pub actor: Actor,
    /// The staff member, for a move by [`Actor::Admin`].
    pub admin_id: Option<UserId>,
    pub note: Option<OrderNote>,
}

impl From<Actor> for Mover {
    /// A move by `actor` with nothing noted.
    fn from(actor: Actor) -> Self {
        Self {
            actor,
            admin_id: None,
            note: None,
        }
    }
}

impl Orders<'_> {
    /// Cancels one of the caller's unpaid orders. Nothing is deleted; it stays in the history.
    pub async fn cancel(&self, credentials: Credentials, id: &str) -> Result<Order, ApiError> {
        let (_, stored) = self.own_order(credentials, id).await?;
        self.move_order(&stored, OrderStatus::Cancelled, Actor::Customer, None)
            .await
            .map(Order::for_customer)
    }

    /// Moves a stored order to `next` as `by` says; 409 if the move is not allowed from where the
    /// order is now, or if someone else changed it first.
    pub async fn move_order(
        &self,
        stored: &StoredOrder,
        next: OrderStatus,
        by: impl Into<Mover>,
        reason: Option<String>,
    ) -> Result<Order, ApiError> {
        let by = by.into();
        let now = crate::now();
        let current = stored
            .order
            .clone()
            .as_of(now, self.rules.unpaid_order_expiry);
        let mut moved = current
            .moved_to(next, by.actor, now)
            .ok_or_else(|| {
                ApiError::Conflict(format!(
                    "an order that is {} cannot become {}",
                    current.status.as_str(),
                    next.as_str()
                ))
            })?
            .noted(by.admin_id, by.note);
        if reason.is_some() {
            moved.cancel_reason = reason;
        }
        if !self.db.replace_order(stored, &moved).await? {
            return Err(ApiError::Conflict(
                "the order changed meanwhile; reload it and try again".into(),
            ));
        }
        tracing::info!(order_id = %moved.id, status = moved.status.as_str(), "order moved");
        self.announcer()
            .announce(&moved, super::announce::kind_of_move(next), None)
            .await;
        Ok(moved)
    }
}
