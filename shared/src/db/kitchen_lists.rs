//! The lists the kitchen works from, read from gsi3 (every order, sorted by delivery date and then
//! id): one day's orders for the cook's production list, and the paid orders of a range of days
//! for the owner's sales report. Each is one Query over just those days, followed to its last
//! page, so its cost grows with the orders of the days asked for, never with the table.

use super::{Db, DbError, from_item, s, users};
use crate::domain::{Date, Money, Order, OrderItem, OrderStatus, User, UserId};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use serde::Deserialize;

/// What the sales report needs of a paid order: read with a projection, so the answer carries
/// nothing else of the order.
#[derive(Debug, Clone, Deserialize)]
pub struct Sale {
    pub delivery_date: Date,
    pub items: Vec<OrderItem>,
    pub total: Money,
    /// What refunds not failed have given back of what was paid for it.
    #[serde(default)]
    pub refunded_amount: Money,
}

impl Db {
    /// The orders delivered on `date` whose status is one of `statuses`, oldest first.
    pub async fn orders_delivered_on(
        &self,
        date: Date,
        statuses: &[OrderStatus],
    ) -> Result<Vec<Order>, DbError> {
        let names: Vec<String> = (0..statuses.len()).map(|i| format!(":s{i}")).collect();
        let mut query = self
            .orders_by_delivery()
            .key_condition_expression("gsi3pk = :all AND begins_with(gsi3sk, :day)")
            .expression_attribute_values(":day", s(super::orders::delivered_on(date)))
            .filter_expression(format!("#status IN ({})", names.join(", ")))
            .expression_attribute_names("#status", "status");
        for (name, status) in names.iter().zip(statuses) {
            query = query.expression_attribute_values(name, s(status.as_str()));
        }
        all_pages(query).await
    }

    /// The orders delivered from `from` to `to` (inclusive) that were paid — whatever became of
    /// them since —, with what the report needs of each.
    pub async fn sales_between(&self, from: Date, to: Date) -> Result<Vec<Sale>, DbError> {
        let query = self
            .orders_by_delivery()
            .key_condition_expression("gsi3pk = :all AND gsi3sk BETWEEN :from AND :to")
            .expression_attribute_values(":from", s(super::orders::delivered_on(from)))
            // `#` and then a ULID: `~` sorts after every character of either.
            .expression_attribute_values(":to", s(format!("{}~", super::orders::delivered_on(to))))
            .filter_expression("attribute_type(paid_at, :string)")
            .expression_attribute_values(":string", s("S"))
            .projection_expression("delivery_date, #items, #total, refunded_amount")
            .expression_attribute_names("#items", "items")
            .expression_attribute_names("#total", "total");
        all_pages(query).await
    }

    /// Several users, 100 to a round trip; unknown ids are simply absent.
    pub async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, DbError> {
        let keys = super::unique_keys(ids, users::user_key);
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            for item in self.batch_get(chunk.to_vec()).await? {
                found.push(from_item(item)?);
            }
        }
        Ok(found)
    }

    fn orders_by_delivery(&self) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name("gsi3")
            .expression_attribute_values(":all", s(super::orders::ALL_ORDERS))
    }
}

/// Every item `query` matches, page after page.
async fn all_pages<T: serde::de::DeserializeOwned>(
    query: QueryFluentBuilder,
) -> Result<Vec<T>, DbError> {
    let mut pages = query.into_paginator().items().send();
    let mut found = Vec::new();
    while let Some(item) = pages.next().await {
        found.push(from_item(item?)?);
    }
    Ok(found)
}
