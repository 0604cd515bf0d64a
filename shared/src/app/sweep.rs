//! The scheduled sweep: cancels unpaid orders past their deadline (writing down what reads already
//! show) and announces each it cancelled itself.

use super::Orders;
use crate::{domain::OrderStatus, error::ApiError, events::OrderEventKind};

/// Orders one query of the sweep reads.
const BATCH: usize = 50;

impl Orders<'_> {
    /// Runs the sweep once; returns how many orders it cancelled.
    pub async fn sweep_unpaid(&self) -> Result<usize, ApiError> {
        let now = crate::now();
        let cutoff = now - self.rules.unpaid_order_expiry;
        let mut cancelled = 0;
        loop {
            let batch = self.db.unpaid_orders_before(cutoff, BATCH).await?;
            let found = batch.len();
            let before = cancelled;
            for stored in batch {
                // The index may still list an order paid or cancelled since: it lags, and a payment,
                // a cancel or another sweep may have got there between the query and the read. Only
                // an order stored as unpaid is this sweep's to cancel (one already cancelled reads
                // as cancelled too once expired, so the stored status decides, not the one shown).
                if stored.order.status != OrderStatus::PendingPayment {
                    continue;
                }
                let expired = stored
                    .order
                    .clone()
                    .as_of(now, self.rules.unpaid_order_expiry);
                if expired.status != OrderStatus::Cancelled {
                    continue;
                }
                // Conditioned on the version and status read: a failed condition means someone
                // else changed the order first (and announced what they did).
                if self.db.replace_order(&stored, &expired).await? {
                    cancelled += 1;
                    self.announcer()
                        .announce(&expired, OrderEventKind::Cancelled, None)
                        .await;
                }
            }
            // A full batch with nothing to cancel is all index lag: the same query would find the
            // same orders again. The next run takes up what is left.
            if found < BATCH || cancelled == before {
                break;
            }
        }
        tracing::info!(cancelled, "unpaid orders swept");
        Ok(cancelled)
    }
}
