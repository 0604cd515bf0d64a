//! The customer's payment history: all of their attempts, or those for one of their orders.

use super::Orders;
use crate::{
    caller::{AuthUser, Credentials},
    db::{Item, Page},
    domain::Payment,
    error::ApiError,
};

impl Orders<'_> {
    /// The caller's payments, newest first.
    pub async fn payments_of(
        &self,
        caller: &AuthUser,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, ApiError> {
        Ok(self.db.payments_of(caller.id(), limit, start).await?)
    }

    /// The attempts for one of the caller's orders, newest first; another user's order is a 404.
    /// `start` is read from the client's cursor once the caller is known (`cursor_start`).
    pub async fn payments_of_order(
        &self,
        credentials: Credentials,
        order_id: &str,
        limit: usize,
        start: impl FnOnce(&AuthUser) -> Result<Option<Item>, ApiError>,
    ) -> Result<(AuthUser, Page<Payment>), ApiError> {
        let (caller, stored) = self.own_order(credentials, order_id).await?;
        let start = start(&caller)?;
        let page = self
            .db
            .payments_of_order(&stored.order.id, limit, start)
            .await?;
        Ok((caller, page))
    }
}
