//! Paginated queries: fill a page from a key condition plus filters, and say where the next page
//! starts, so that following the cursors visits every matching item exactly once.

use super::{Db, DbError, Item, from_item};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Query round trips one page may take when filters drop many items; after that the page is cut
/// short and the cursor continues from where the reading stopped.
const MAX_ROUND_TRIPS: usize = 8;
/// Items one round trip reads once filters have shown they drop items (DynamoDB stops at 1 MB
/// anyway): a search through 100,000 users reads them in about 13 requests, not 125.
const WIDE_READ: usize = 1000;

/// One page of items and the start key of the next, if there may be one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Item>,
}

impl<T> Page<T> {
    /// The same page, each item as `view` shows it.
    pub fn map<U>(self, view: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(view).collect(),
            next: self.next,
        }
    }
}

/// A query on the table or one of its indexes.
pub(crate) struct Listing {
    pub index: Option<&'static str>,
    /// The key attributes a start key needs: the table's and, for an index, the index's.
    pub key_attributes: &'static [&'static str],
    pub key_condition: String,
    pub filter: Vec<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
    pub newest_first: bool,
}

/// The table's global secondary indexes: each keyed `gsiNpk` / `gsiNsk`, projecting everything.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
            Index::Gsi3 => "gsi3",
        }
    }

    /// The attributes a start key on this index needs: the table's key and the index's.
    fn key_attributes(self) -> &'static [&'static str] {
        match self {
            Index::Gsi1 => &["pk", "sk", "gsi1pk", "gsi1sk"],
            Index::Gsi2 => &["pk", "sk", "gsi2pk", "gsi2sk"],
            Index::Gsi3 => &["pk", "sk", "gsi3pk", "gsi3sk"],
        }
    }
}

impl Listing {
    /// Every item of one partition of `index`.
    pub fn partition(index: Index, partition: impl Into<String>) -> Self {
        let [.., pk, _] = index.key_attributes() else {
            unreachable!("four key attributes")
        };
        Self {
            index: Some(index.name()),
            key_attributes: index.key_attributes(),
            key_condition: format!("{pk} = :partition"),
            filter: Vec::new(),
            names: HashMap::new(),
            values: HashMap::from([(
                ":partition".to_string(),
                AttributeValue::S(partition.into()),
            )]),
            newest_first: true,
        }
    }

    /// Only items whose index sort key is at least `bound`.
    pub fn sort_at_least(self, bound: impl Into<String>) -> Self {
        self.sort_condition("{sk} >= :sort", bound)
    }

    /// Only items whose index sort key starts with `prefix`.
    pub fn sort_begins_with(self, prefix: impl Into<String>) -> Self {
        self.sort_condition("begins_with({sk}, :sort)", prefix)
    }

    /// Only items whose index sort key is between `low` and `high` (both included).
    pub fn sort_between(mut self, low: impl Into<String>, high: impl Into<String>) -> Self {
        let sk = self.key_attributes[3];
        self.key_condition = format!("{} AND {sk} BETWEEN :low AND :high", self.key_condition);
        self.values
            .insert(":low".to_string(), AttributeValue::S(low.into()));
        self.values
            .insert(":high".to_string(), AttributeValue::S(high.into()));
        self
    }

    fn sort_condition(mut self, template: &str, value: impl Into<String>) -> Self {
        let sk = self.key_attributes[3];
        self.key_condition = format!(
            "{} AND {}",
            self.key_condition,
            template.replace("{sk}", sk)
        );
        self.values
            .insert(":sort".to_string(), AttributeValue::S(value.into()));
        self
    }

    pub fn value(mut self, name: &str, value: AttributeValue) -> Self {
        self.values.insert(name.to_string(), value);
        self
    }

    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_string(), attribute.to_string());
        self
    }

    pub fn filter(mut self, condition: impl Into<String>) -> Self {
        self.filter.push(condition.into());
        self
    }
}

impl Db {
    /// Reads up to `limit` matching items after `start`.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        listing: Listing,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<T>, DbError> {
        let page = self.list_raw(listing, limit, start).await?;
        let items = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// [`Db::list`], returning the items as stored.
    pub(crate) async fn list_raw(
        &self,
        listing: Listing,
        limit: usize,
        start: Option<Item>,
    ) -> Result<Page<Item>, DbError> {
        let filter = (!listing.filter.is_empty()).then(|| listing.filter.join(" AND "));
        let mut found: Vec<Item> = Vec::new();
        let mut start = start;
        for round in 0..MAX_ROUND_TRIPS {
            // One more than the page, to know whether another page follows; wider reads once filters
            // have shown they drop items.
            let wanted = limit + 1 - found.len();
            let read = if round == 0 {
                wanted
            } else {
                wanted.max(WIDE_READ)
            };
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(listing.index.map(String::from))
                .key_condition_expression(&listing.key_condition)
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(
                    (!listing.names.is_empty()).then(|| listing.names.clone()),
                )
                .set_expression_attribute_values(Some(listing.values.clone()))
                .scan_index_forward(!listing.newest_first)
                .limit(read as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            found.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if found.len() > limit || start.is_none() {
                break;
            }
        }
        let next = if found.len() > limit {
            found.truncate(limit);
            found
                .last()
                .map(|item| start_key(item, listing.key_attributes))
        } else {
            start
        };
        Ok(Page { items: found, next })
    }
}

fn start_key(item: &Item, attributes: &[&str]) -> Item {
    attributes
        .iter()
        .filter_map(|name| {
            item.get(*name)
                .map(|value| (name.to_string(), value.clone()))
        })
        .collect()
}
