//! Faults of the table that DynamoDB Local does not make by itself, for tests of what the functions
//! do when they happen: an index that lags behind its table.

use crate::testing::TestApp;
use aws_sdk_dynamodb::types::AttributeValue;
use kitchen::domain::OrderId;

impl TestApp {
    /// Lists `order` in gsi2's partition of unpaid orders again, as the index may for a while after
    /// the order was paid or cancelled: DynamoDB's global secondary indexes are updated
    /// asynchronously, DynamoDB Local's at once, so the lag is written here by hand (on the item,
    /// whose copy the index is). The item itself still says what the order is.
    pub async fn index_lists_as_unpaid(&self, order: &OrderId) {
        let db = &self.state.db;
        db.client()
            .update_item()
            .table_name(db.table_name())
            .key("pk", AttributeValue::S(format!("ORDER#{order}")))
            .key("sk", AttributeValue::S("ORDER".into()))
            .update_expression("SET gsi2pk = :unpaid")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":unpaid",
                AttributeValue::S("ORDERS#pending_payment".into()),
            )
            .send()
            .await
            .expect("DynamoDB Local updates the order's index attributes");
    }
}
