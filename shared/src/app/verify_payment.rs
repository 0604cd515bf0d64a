//! Asking Paystack how a payment went, when the customer comes back from checkout: whatever Paystack
//! says is recorded by `record_charge`, exactly as the webhook records it.

use super::{Payments, record_charge::ReadAlong};
use crate::{
    caller::Credentials,
    domain::{Payment, PaymentReference},
    error::{ApiError, cause_chain},
};

impl Payments<'_> {
    /// One of the caller's payments as recorded once Paystack has been asked.
    pub async fn verify(
        &self,
        credentials: Credentials,
        reference: &str,
    ) -> Result<Payment, ApiError> {
        let not_found = || ApiError::NotFound("no such payment".into());
        let reference = PaymentReference::parse(reference).map_err(|_| not_found())?;
        let (caller, stored) = self
            .orders
            .db
            .session_and_payment(&credentials, &reference)
            .await?
            .authorise(credentials)?;
        let stored = stored
            .filter(|s| &s.payment.user_id == caller.id())
            .ok_or_else(not_found)?;
        if stored.payment.is_settled() {
            return Ok(stored.payment);
        }
        let charge = match self.paystack.verify(&reference).await {
            Ok(charge) => charge,
            // Paystack never saw this reference (its start did not reach Paystack): nothing to record.
            Err(err) if err.is_not_found() => {
                tracing::info!(%reference, error = %cause_chain(&err), "Paystack does not know the payment");
                return Ok(stored.payment);
            }
            Err(err) => return Err(err.into()),
        };
        let (recorded, payment) = self
            .orders
            .record_charge(stored, ReadAlong::default(), &charge)
            .await?;
        tracing::info!(%reference, ?recorded, charge_status = ?charge.status, "payment verified");
        Ok(self.refunds().after_charge(recorded, payment).await)
    }
}
