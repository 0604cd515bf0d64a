//! The customer's payment history: all of their attempts, or those for one of their orders.

use super::Orders;
use crate::{
    caller::{AuthUser, Credentials, OwnClaim},
    db::{Item, Page},
    domain::{CustomerRefund, Payment, Refund},
    error::ApiError,
};

impl Orders<'_> {
    /// The caller's payments, newest first.
    pub async fn payments_of(
        &self,
        owner: OwnClaim,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, ApiError> {
        Ok(self.db.payments_of(owner.user_id(), limit, start).await?)
    }

    /// The attempts for one of the caller's orders, newest first; another user's order is a 404.
    /// `start` is read from the client's cursor once the caller is known (`cursor_start`).
    pub async fn payments_of_order(
        &self,
        credentials: Credentials,
        order_id: &str,
        limit: usize,
        start: impl FnOnce(&AuthUser) -> Result<Option<Item>, ApiError>,
    ) -> Result<(AuthUser, Page<PaymentWithRefunds>), ApiError> {
        let (caller, stored) = self.own_order(credentials, order_id).await?;
        let start = start(&caller)?;
        // The order's refunds (a handful) beside its attempts, in the same round trip.
        let (page, refunds) = tokio::join!(
            self.db.payments_of_order(&stored.order.id, limit, start),
            self.db.refunds_of_order(&stored.order.id, 100, None),
        );
        let (page, refunds) = (page?, refunds?.items);
        let items = page
            .items
            .into_iter()
            .map(|payment| PaymentWithRefunds {
                refunds: refunds
                    .iter()
                    .filter(|refund| refund.payment_reference == payment.reference)
                    .map(Refund::for_customer)
                    .collect(),
                payment,
            })
            .collect();
        Ok((
            caller,
            Page {
                items,
                next: page.next,
            },
        ))
    }
}

/// A payment attempt with the refunds of it, as its customer sees them (amounts and statuses).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PaymentWithRefunds {
    #[serde(flatten)]
    pub payment: Payment,
    pub refunds: Vec<CustomerRefund>,
}
