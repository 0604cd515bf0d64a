//! The customer's view of their orders: one with its status history, or all of them, newest first.
//! An unpaid order past its deadline is stored as pending until the sweep runs, but reads as
//! cancelled everywhere.

use super::Orders;
use crate::{
    caller::{AuthUser, Credentials, OwnClaim},
    db::{Page, StoredOrder},
    domain::Order,
    domain::{OrderId, OrderStatus},
    error::ApiError,
};

impl Orders<'_> {
    /// One of the caller's orders, read with the session check in one round trip. Another user's
    /// order is a 404, exactly like one that does not exist.
    pub(crate) async fn own_order(
        &self,
        credentials: Credentials,
        id: &str,
    ) -> Result<(AuthUser, StoredOrder), ApiError> {
        let not_found = || ApiError::NotFound("no such order".into());
        let id = OrderId::parse(id).map_err(|_| not_found())?;
        let (caller, stored) = self
            .db
            .session_and_order(&credentials, &id)
            .await?
            .authorise(credentials)?;
        let stored = stored
            .filter(|s| &s.order.user_id == caller.id())
            .ok_or_else(not_found)?;
        Ok((caller, stored))
    }

    /// One of the caller's orders as it reads now: the tracking view.
    pub async fn show(&self, credentials: Credentials, id: &str) -> Result<OrderView, ApiError> {
        // The order's refunds are read beside the session check and the order (one round trip);
        // they are shown only once the order is the caller's.
        let Ok(order_id) = crate::domain::OrderId::parse(id) else {
            let (_, stored) = self.own_order(credentials, id).await?;
            return Ok(OrderView::new(self.as_of_now(stored.order), Vec::new()));
        };
        let (own, refunds) = tokio::join!(
            self.own_order(credentials, id),
            self.db.refunds_of_order(&order_id, 100, None)
        );
        let (_, stored) = own?;
        Ok(OrderView::new(self.as_of_now(stored.order), refunds?.items))
    }

    /// A page of the caller's orders, newest first, each as it reads now; with `status`, only those
    /// that read so.
    pub async fn list_own(
        &self,
        owner: OwnClaim,
        status: Option<OrderStatus>,
        limit: usize,
        start: Option<crate::db::Item>,
    ) -> Result<Page<Order>, ApiError> {
        // An expired order reads as cancelled though stored as pending: filter on what it reads as.
        let stored_status = match status {
            Some(OrderStatus::Cancelled) => None,
            other => other,
        };
        let page = self
            .db
            .orders_of(owner.user_id(), stored_status, limit, start)
            .await?;
        Ok(self.reading_now(page, status).map(Order::for_customer))
    }

    /// `order` as it reads now (an unpaid one past its deadline reads as cancelled).
    pub fn as_of_now(&self, order: Order) -> Order {
        order.as_of(crate::now(), self.rules.unpaid_order_expiry)
    }

    /// A page of orders as they read now, keeping only those in `status` if given.
    pub(crate) fn reading_now(
        &self,
        page: Page<Order>,
        status: Option<OrderStatus>,
    ) -> Page<Order> {
        let now = crate::now();
        let expiry = self.rules.unpaid_order_expiry;
        let mut page = page.map(|order| order.as_of(now, expiry));
        if let Some(status) = status {
            page.items.retain(|order| order.status == status);
        }
        page
    }
}

/// One of the caller's orders with its refunds, as its customer sees them (amounts and statuses).
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: Order,
    pub refunds: Vec<crate::domain::CustomerRefund>,
}

impl OrderView {
    fn new(order: Order, refunds: Vec<crate::domain::Refund>) -> Self {
        Self {
            order: order.for_customer(),
            refunds: refunds
                .iter()
                .rev()
                .map(crate::domain::Refund::for_customer)
                .collect(),
        }
    }
}
