//! Moving an order along its life (`Order::moved_to` says which moves are allowed): the customer's
//! cancel, and the staff's moves. Each write is conditioned on the version and status read, so of
//! two racing changes one wins and the other is a 409; each committed move is announced.

use super::Orders;
use crate::{
    caller::Credentials,
    db::StoredOrder,
    domain::Order,
    domain::{Actor, OrderStatus},
    error::ApiError,
};

impl Orders<'_> {
    /// Cancels one of the caller's unpaid orders. Nothing is deleted; it stays in the history.
    pub async fn cancel(&self, credentials: Credentials, id: &str) -> Result<Order, ApiError> {
        let (_, stored) = self.own_order(credentials, id).await?;
        self.move_order(&stored, OrderStatus::Cancelled, Actor::Customer, None)
            .await
    }

    /// Moves a stored order to `next` as `actor`; 409 if the move is not allowed from where the
    /// order is now, or if someone else changed it first.
    pub async fn move_order(
        &self,
        stored: &StoredOrder,
        next: OrderStatus,
        actor: Actor,
        reason: Option<String>,
    ) -> Result<Order, ApiError> {
        let now = crate::now();
        let current = stored
            .order
            .clone()
            .as_of(now, self.rules.unpaid_order_expiry);
        let mut moved = current.moved_to(next, actor, now).ok_or_else(|| {
            ApiError::Conflict(format!(
                "an order that is {} cannot become {}",
                current.status.as_str(),
                next.as_str()
            ))
        })?;
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
