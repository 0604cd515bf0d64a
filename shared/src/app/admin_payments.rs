//! Staff seeing payments: every attempt, newest first, by status, customer email or order.

use crate::{
    caller::StaffClaim,
    db::{Db, Item, Page, PaymentFilter},
    domain::{Email, OrderId},
    domain::{Payment, PaymentStatus},
    error::ApiError,
};
use serde::Deserialize;

/// What the staff's payment listing uses: the table.
#[derive(Clone, Copy)]
pub struct PaymentLedger<'a> {
    pub db: &'a Db,
}

/// Which payments staff list. `email` names the customer (exact, any case).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSearch {
    pub status: Option<PaymentStatus>,
    pub email: Option<Email>,
    pub order_id: Option<OrderId>,
}

/// The open disputes take no filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeSearch {}

impl PaymentLedger<'_> {
    /// A page of the payments with an open dispute, the soonest answer due first.
    pub async fn open_disputes(
        &self,
        _staff: StaffClaim,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, ApiError> {
        Ok(self.db.open_disputes(limit, start).await?)
    }

    /// A page of the payments matching `search`; an email nobody holds matches no payment.
    pub async fn list(
        &self,
        _staff: StaffClaim,
        search: &PaymentSearch,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Payment>, ApiError> {
        let user_id = match &search.email {
            Some(email) => match self.db.user_id_by_email(email).await? {
                Some(id) => Some(id),
                None => {
                    return Ok(Page {
                        items: Vec::new(),
                        next: None,
                    });
                }
            },
            None => None,
        };
        let filter = PaymentFilter {
            status: search.status,
            user_id,
            order_id: search.order_id.clone(),
        };
        Ok(self.db.all_payments(&filter, limit, start).await?)
    }
}
