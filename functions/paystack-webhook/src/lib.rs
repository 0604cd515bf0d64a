//! The paystack-webhook function.
