//! The baseline for warm overhead: the same DynamoDB (and SNS) requests a route makes, issued
//! straight from the bench with the SDK, against items of the same shape and size. Each method
//! returns how many read and write requests it made, which the bench checks against what the
//! function's table meter counted for the route.

use anyhow::{Context, Result};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
};
use serde_json::Value;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Read and write requests made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub reads: u32,
    pub writes: u32,
}

/// The requests of one `POST /orders`.
pub struct PlaceOrder<'a> {
    pub session: Item,
    pub user: Item,
    pub cart: Item,
    /// Checking out the cart at this version; `None` for explicit items.
    pub cart_version: Option<&'a str>,
    pub dishes: Vec<Item>,
    pub order: Item,
    pub idempotency: Item,
    pub event: &'a Value,
}

pub struct Direct {
    pub db: Client,
    pub sns: aws_sdk_sns::Client,
    pub table: String,
    pub topic_arn: String,
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

impl Direct {
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, topic_arn: &str) -> Self {
        Self {
            db: Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            table: table.to_string(),
            topic_arn: topic_arn.to_string(),
        }
    }

    pub async fn get(&self, key: Item) -> Result<Item> {
        self.db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await?
            .item
            .context("item not found")
    }

    pub async fn put(&self, item: Item) -> Result<()> {
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()?;
        let mut output = self
            .db
            .batch_get_item()
            .request_items(&self.table, request)
            .send()
            .await?;
        Ok(output
            .responses
            .as_mut()
            .and_then(|r| r.remove(&self.table))
            .unwrap_or_default())
    }

    async fn publish(&self, message: &Value) -> Result<()> {
        let kind = message["type"].as_str().unwrap_or("order.placed");
        self.sns
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message.to_string())
            .message_attributes(
                "event_type",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(kind)
                    .build()?,
            )
            .send()
            .await?;
        Ok(())
    }

    /// A session check on its own (`GET /me`): the session and its user in one batch.
    pub async fn session_check(&self, session: Item, user: Item) -> Result<Calls> {
        let found = self.batch_get(vec![session, user]).await?;
        anyhow::ensure!(found.len() == 2, "expected 2 items, found {}", found.len());
        Ok(Calls {
            reads: 1,
            writes: 0,
        })
    }

    /// A list beside its session check (`GET /payments`, `GET /admin/orders`): the session and
    /// user in one batch, and at the same time one page (`limit`, newest first) of `index`'s
    /// partition `partition`.
    pub async fn list_beside_session(
        &self,
        session: Item,
        user: Item,
        index: &str,
        partition: &str,
        limit: i32,
    ) -> Result<Calls> {
        let page = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", format!("{index}pk"))
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false)
            .limit(limit + 1)
            .send();
        let (found, page) = tokio::join!(self.batch_get(vec![session, user]), page);
        anyhow::ensure!(found?.len() == 2, "the session and its user");
        page?;
        Ok(Calls {
            reads: 2,
            writes: 0,
        })
    }

    /// The webhook for a reference we never issued: the payment's GetItem, which finds nothing.
    pub async fn unknown_payment(&self, reference: &str) -> Result<Calls> {
        let found = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("PAYMENT#{reference}"), "PAYMENT")))
            .consistent_read(true)
            .send()
            .await?;
        anyhow::ensure!(found.item.is_none(), "no payment {reference}");
        Ok(Calls {
            reads: 1,
            writes: 0,
        })
    }

    /// The notifier's one SMS for `order.placed`.
    pub async fn sms(&self, phone: &str, text: &str) -> Result<Calls> {
        self.sns
            .publish()
            .phone_number(phone)
            .message(text)
            .message_attributes(
                "AWS.SNS.SMS.SMSType",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("Transactional")
                    .build()?,
            )
            .send()
            .await?;
        Ok(Calls::default())
    }

    /// `GET /dishes`: one page of the menu index for `date`, beside the day's capacity counters and
    /// the kitchen's settings (what the page's `portions_left` and `ordering_open` come from), the
    /// three at once as the function sends them.
    pub async fn menu(&self, date: &str, limit: i32) -> Result<Calls> {
        let page = self
            .db
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk AND gsi1sk >= :sk")
            .filter_expression("#from <= :date")
            .expression_attribute_names("#from", "available_from")
            .expression_attribute_values(":pk", s("MENU"))
            .expression_attribute_values(":sk", s(date))
            .expression_attribute_values(":date", s(date))
            .limit(limit + 1)
            .send();
        let counters = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :day")
            .expression_attribute_values(":day", s(format!("DAY#{date}")))
            .send();
        let settings = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("KITCHEN", "SETTINGS")))
            .consistent_read(true)
            .send();
        let (page, counters, settings) = tokio::join!(page, counters, settings);
        page?;
        counters?;
        settings?;
        Ok(Calls {
            reads: 3,
            writes: 0,
        })
    }

    /// `GET /orders/{id}`: the session, the user and the order in one batch, beside the order's
    /// refunds (a Query of gsi2), the two at once as the function sends them.
    pub async fn get_order(&self, session: Item, user: Item, order: Item) -> Result<Calls> {
        let order_id = order["pk"]
            .as_s()
            .ok()
            .and_then(|pk| pk.strip_prefix("ORDER#"))
            .context("an order key")?
            .to_string();
        let refunds = self
            .db
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :pk")
            .expression_attribute_values(":pk", s(format!("REFUNDS#ORDER#{order_id}")))
            .scan_index_forward(false)
            .limit(101)
            .send();
        let (found, refunds) = tokio::join!(self.batch_get(vec![session, user, order]), refunds);
        let found = found?;
        refunds?;
        anyhow::ensure!(found.len() == 3, "expected 3 items, found {}", found.len());
        Ok(Calls {
            reads: 2,
            writes: 0,
        })
    }

    /// `POST /auth/refresh`: the session and user, then the conditional rotation of the hash.
    pub async fn refresh(
        &self,
        session: Item,
        user: Item,
        old_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<Calls> {
        self.batch_get(vec![session.clone(), user]).await?;
        self.db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session))
            .update_expression("SET refresh_hash = :new, expires_at = :expires")
            .condition_expression("refresh_hash = :old AND expires_at > :now")
            .expression_attribute_values(":new", s(new_hash))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":expires", n(now + 30 * 86_400))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .send()
            .await?;
        Ok(Calls {
            reads: 1,
            writes: 1,
        })
    }

    /// `POST /orders`: the session, user, cart and Idempotency-Key record (and, for explicit items,
    /// the dishes) in one batch; from the cart, then the cart's dishes; one transaction that puts the
    /// order and the key's record (and deletes the cart at its version); the event.
    pub async fn place_order(&self, order: PlaceOrder<'_>) -> Result<Calls> {
        let mut first = vec![
            order.session,
            order.user,
            order.cart.clone(),
            key_of(&order.idempotency),
        ];
        let mut reads = 1;
        match order.cart_version {
            Some(_) => {
                self.batch_get(first).await?;
                self.batch_get(order.dishes).await?;
                reads += 1;
            }
            None => {
                first.extend(order.dishes);
                self.batch_get(first).await?;
            }
        }
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(order.order))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        let put_key = Put::builder()
            .table_name(&self.table)
            .set_item(Some(order.idempotency))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(0))
            .build()?;
        let mut transaction = self
            .db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_order).build());
        if let Some(version) = order.cart_version {
            let delete_cart = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(order.cart))
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(version))
                .build()?;
            transaction = transaction
                .transact_items(TransactWriteItem::builder().delete(delete_cart).build());
        }
        transaction
            .transact_items(TransactWriteItem::builder().put(put_key).build())
            .send()
            .await?;
        self.publish(order.event).await?;
        Ok(Calls { reads, writes: 1 })
    }

    /// The webhook's `charge.success`: the payment, its order and customer in one batch (the ids
    /// come with the signed event); one transaction that records the payment and marks the order
    /// paid, both at their versions; the event.
    pub async fn record_payment(
        &self,
        payment: Item,
        order: Item,
        user: Item,
        event: &Value,
    ) -> Result<Calls> {
        let payment_version = version_of(&payment);
        let order_version = version_of(&order);
        let found = self
            .batch_get(vec![key_of(&payment), key_of(&order), user])
            .await?;
        anyhow::ensure!(found.len() == 3, "expected 3 items, found {}", found.len());
        let put_payment = Put::builder()
            .table_name(&self.table)
            .set_item(Some(payment))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", payment_version)
            .build()?;
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(order))
            .condition_expression("version = :v AND #status = :status")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":v", order_version)
            .expression_attribute_values(":status", s("pending_payment"))
            .build()?;
        self.db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_payment).build())
            .transact_items(TransactWriteItem::builder().put(put_order).build())
            .send()
            .await?;
        self.publish(event).await?;
        Ok(Calls {
            reads: 1,
            writes: 1,
        })
    }
}

pub fn key_of(item: &Item) -> Item {
    ["pk", "sk"]
        .into_iter()
        .filter_map(|name| item.get(name).map(|v| (name.to_string(), v.clone())))
        .collect()
}

fn version_of(item: &Item) -> AttributeValue {
    item.get("version").cloned().unwrap_or_else(|| n(0))
}
