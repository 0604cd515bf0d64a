//! Faults of the table that DynamoDB Local does not make by itself, for tests of what the functions
//! do when they happen: an index that lags behind its table, and a table that stops answering reads
//! once a request has written.

use crate::testing::TestApp;
use aws_sdk_dynamodb::{
    config::{
        ConfigBag, Intercept, RuntimeComponents,
        interceptors::{
            BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
        },
    },
    error::BoxError,
    types::AttributeValue,
};
use kitchen::{domain::OrderId, state::Function};
use std::sync::atomic::{AtomicBool, Ordering};

/// The table operations that write; every other one the functions use reads.
const WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

/// Whether the request is a write: DynamoDB's JSON protocol names the operation in a header
/// (`DynamoDB_20120810.PutItem`).
fn is_write(context: &BeforeTransmitInterceptorContextRef<'_>) -> bool {
    context
        .request()
        .headers()
        .get("x-amz-target")
        .and_then(|target| target.rsplit('.').next())
        .is_some_and(|operation| WRITES.contains(&operation))
}

/// Lets every request through until a write has been sent, then fails every read before it leaves,
/// as a connection that broke would: the SDK reports a dispatch failure, which the table module
/// counts as the table being unavailable. Writes still go through.
#[derive(Debug, Default)]
struct ReadsFailAfterAWrite {
    written: AtomicBool,
}

impl Intercept for ReadsFailAfterAWrite {
    fn name(&self) -> &'static str {
        "ReadsFailAfterAWrite"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_write(context) {
            self.written.store(true, Ordering::SeqCst);
            Ok(())
        } else if self.written.load(Ordering::SeqCst) {
            let target = context.request().headers().get("x-amz-target");
            Err(format!("test fault: the table stopped answering reads ({target:?})").into())
        } else {
            Ok(())
        }
    }
}

/// Lets the first write reach the table, then hands the SDK a 500 in place of its answer, as if
/// the answer were lost on the way back: the SDK tries the write again, though it had committed.
#[derive(Debug, Default)]
struct FirstWriteAnswerLost {
    /// The attempt under way is the first write.
    first_write_in_flight: AtomicBool,
    lost_one: AtomicBool,
}

impl Intercept for FirstWriteAnswerLost {
    fn name(&self) -> &'static str {
        "FirstWriteAnswerLost"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.first_write_in_flight.store(
            is_write(context) && !self.lost_one.load(Ordering::SeqCst),
            Ordering::SeqCst,
        );
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.first_write_in_flight.swap(false, Ordering::SeqCst) {
            self.lost_one.store(true, Ordering::SeqCst);
            let mut lost = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500u16)?,
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"test fault: the answer was lost"}"#,
                ),
            );
            lost.headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            *context.response_mut() = lost;
        }
        Ok(())
    }
}

impl TestApp {
    /// `function` of this app's deployment, through a table client whose first write commits but
    /// whose answer is lost, so that the SDK sends it again.
    pub async fn with_first_write_answer_lost(&self, function: Function) -> TestApp {
        self.with_function_table(function, |table| {
            table.interceptor(FirstWriteAnswerLost::default())
        })
        .await
    }

    /// `function` of this app's deployment, through a table client of its own whose reads fail once
    /// it has sent a write (the table went away just after a change committed). This app keeps its
    /// own client, to look at the table afterwards.
    pub async fn with_reads_failing_after_a_write(&self, function: Function) -> TestApp {
        self.with_function_table(function, |table| {
            table.interceptor(ReadsFailAfterAWrite::default())
        })
        .await
    }

    /// Lists `order` in gsi2's partition of unpaid orders again, as the index may for a while after
    /// the order was paid or cancelled: DynamoDB's global secondary indexes are updated
    /// asynchronously, DynamoDB Local's at once, so the lag is written here by hand (on the item,
    /// whose copy the index is). The item itself still says what the order is.
    pub async fn index_lists_as_unpaid(&self, order: &OrderId) {
        let db = self.db();
        db.client()
            .update_item()
            .table_name(db.table_name())
            .set_key(Some(kitchen::db::order_key(order)))
            .update_expression("SET gsi2pk = :unpaid")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":unpaid",
                AttributeValue::S(kitchen::db::orders_in(
                    kitchen::domain::OrderStatus::PendingPayment,
                )),
            )
            .send()
            .await
            .expect("DynamoDB Local updates the order's index attributes");
    }
}
