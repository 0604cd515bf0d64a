//! What the kitchen can cook and deliver: one counter item per dish and delivery date (portions
//! held by orders not cancelled) and one per date (orders not cancelled), all of a date in one
//! partition (`pk = DAY#<date>`), so the menu reads a date's counters with one Query.
//!
//! Counters move only inside the transaction that writes an order, by the difference between what
//! the order held before the write and what it holds after ([`Holding`]): placing holds, editing
//! moves, cancelling (by anyone, or the sweep's expiry) releases. An increase is conditioned on the
//! counter staying within its limit, so however many orders race for the last portions, exactly as
//! many commit as there are portions; a release has no condition. No crash or race can leave a
//! portion held by no order, or an order without its portions. Every dish is counted, limited or
//! not, so a limit set later counts the orders placed before it.

use super::{Db, DbError, Item, attr, key, n, s};
use crate::domain::{Date, DishId, Order, OrderStatus};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use std::collections::{BTreeMap, HashMap};

const DAY_PREFIX: &str = "DAY#";

/// The partition of a date's counters.
fn day_pk(date: Date) -> String {
    format!("{DAY_PREFIX}{date}")
}

pub(super) const ENTITY: &str = "capacity";
const DISH_PREFIX: &str = "DISH#";
const ORDERS_SK: &str = "ORDERS";
/// The attribute each counter keeps its count in.
const HELD: &str = "held";

/// One counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Portions of a dish held for a delivery date.
    Portions(Date, DishId),
    /// Orders held for a delivery date.
    Orders(Date),
}

impl Counter {
    /// Dates first, then the day's orders before its dishes, dishes by id.
    fn order_key(&self) -> (Date, &str) {
        match self {
            Counter::Portions(date, dish) => (*date, dish.as_str()),
            Counter::Orders(date) => (*date, ""),
        }
    }

    fn key(&self) -> Item {
        match self {
            Counter::Portions(date, dish) => key(day_pk(*date), format!("{DISH_PREFIX}{dish}")),
            Counter::Orders(date) => key(day_pk(*date), ORDERS_SK),
        }
    }
}

impl PartialOrd for Counter {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Counter {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

/// What one order holds of the kitchen's capacity: its portions of each dish and one order slot,
/// on its delivery date; nothing once it is cancelled.
pub fn holding(order: &Order) -> BTreeMap<Counter, i64> {
    let mut held = BTreeMap::new();
    if order.status == OrderStatus::Cancelled {
        return held;
    }
    for item in &order.items {
        *held
            .entry(Counter::Portions(order.delivery_date, item.dish_id.clone()))
            .or_insert(0) += i64::from(item.quantity.get());
    }
    held.insert(Counter::Orders(order.delivery_date), 1);
    held
}

/// How each counter moves when an order goes from `old` (none for a new order) to `new`; counters
/// that do not move are left out.
pub fn moves(old: Option<&Order>, new: &Order) -> BTreeMap<Counter, i64> {
    let mut moves = holding(new);
    for (counter, count) in old.map(holding).unwrap_or_default() {
        *moves.entry(counter).or_insert(0) -= count;
    }
    moves.retain(|_, delta| *delta != 0);
    moves
}

/// The limits an order's increases must stay within: portions per limited dish, and orders per
/// day when capped. What is not here has no limit.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    pub portions: HashMap<DishId, u32>,
    pub orders_per_day: Option<u32>,
}

impl Limits {
    fn of(&self, counter: &Counter) -> Option<u32> {
        match counter {
            Counter::Portions(_, dish) => self.portions.get(dish).copied(),
            Counter::Orders(_) => self.orders_per_day,
        }
    }
}

/// The updates of the counters an order write moves, and the counter of each, in order.
#[derive(Debug, Default)]
pub(super) struct CounterWrites {
    pub counters: Vec<Counter>,
    pub writes: Vec<TransactWriteItem>,
}

impl CounterWrites {
    /// The counters whose condition failed, when the writes went into the transaction from
    /// position `first` on.
    pub fn full(&self, failure: &super::TransactFailure, first: usize) -> Vec<Counter> {
        (self.counters.iter().enumerate())
            .filter(|(i, _)| failure.condition_failed_at(first + i))
            .map(|(_, counter)| counter.clone())
            .collect()
    }
}

/// Counters that cannot take an order's increase, found before any write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short(pub Vec<Counter>);

/// What a date's counters hold: portions per dish, and orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub portions: HashMap<DishId, u32>,
    pub orders: u32,
}

impl DayCounts {
    pub fn portions_of(&self, dish: &DishId) -> u32 {
        self.portions.get(dish).copied().unwrap_or(0)
    }
}

/// A counter item's counter and count, for tools that read the table wholesale.
pub(super) fn decoded(item: &Item) -> Option<(Counter, i64)> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    let date = Date::parse(text(attr::PK)?.strip_prefix(DAY_PREFIX)?).ok()?;
    let sk = text(attr::SK)?;
    let counter = if sk == ORDERS_SK {
        Counter::Orders(date)
    } else {
        Counter::Portions(date, DishId::parse(sk.strip_prefix(DISH_PREFIX)?).ok()?)
    };
    let held = item.get(HELD)?.as_n().ok()?.parse().ok()?;
    Some((counter, held))
}

impl Db {
    /// The writes that move the counters as an order goes from `old` (none for a new order) to
    /// `new` ([`moves`]), each an update of one counter (a transaction may touch an item once, and
    /// each counter moves once), with the counter each belongs to. An increase of a limited counter is conditioned on the counter staying within `limits`;
    /// one larger than the limit itself cannot fit whatever is held, and is `Short` at once.
    pub(super) fn counter_writes(
        &self,
        old: Option<&Order>,
        new: &Order,
        limits: &Limits,
    ) -> Result<Result<CounterWrites, Short>, DbError> {
        let moves = moves(old, new);
        let too_big: Vec<Counter> = moves
            .iter()
            .filter(|(counter, delta)| {
                limits
                    .of(counter)
                    .is_some_and(|limit| **delta > i64::from(limit))
            })
            .map(|(counter, _)| counter.clone())
            .collect();
        if !too_big.is_empty() {
            return Ok(Err(Short(too_big)));
        }
        let mut writes = CounterWrites::default();
        for (counter, delta) in &moves {
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(counter.key()))
                .update_expression("SET #entity = :entity ADD #held :delta")
                .expression_attribute_names("#entity", attr::ENTITY)
                .expression_attribute_names("#held", HELD)
                .expression_attribute_values(":entity", s(ENTITY))
                .expression_attribute_values(":delta", n(delta));
            if *delta > 0
                && let Some(limit) = limits.of(counter)
            {
                update = update
                    .condition_expression("attribute_not_exists(#held) OR #held <= :room")
                    .expression_attribute_values(":room", n(i64::from(limit) - delta));
            }
            let update = super::built(update.build())?;
            writes.counters.push(counter.clone());
            writes
                .writes
                .push(TransactWriteItem::builder().update(update).build());
        }
        Ok(Ok(writes))
    }

    /// What `date`'s counters hold, in one Query of its partition.
    pub async fn day_counts(&self, date: Date) -> Result<DayCounts, DbError> {
        let mut counts = DayCounts::default();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :day")
                .expression_attribute_values(":day", s(day_pk(date)))
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            for item in page.items.unwrap_or_default() {
                let Some((counter, held)) = decoded(&item) else {
                    continue;
                };
                let held = held.max(0) as u32;
                match counter {
                    Counter::Orders(_) => counts.orders = held,
                    Counter::Portions(_, dish) => {
                        counts.portions.insert(dish, held);
                    }
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(counts),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing;

    #[test]
    fn an_order_holds_its_portions_and_a_slot_until_it_is_cancelled() {
        let mut order = testing::order();
        let dish = testing::dish();
        let quantity = crate::domain::Quantity::parse(3).unwrap();
        order.items.push(crate::domain::OrderItem {
            dish_id: dish.id.clone(),
            dish_name: dish.name.to_string(),
            unit_price: dish.price.into(),
            quantity,
            line_total: crate::domain::Money::from(dish.price).times(quantity),
            currency: dish.currency,
        });
        let held = holding(&order);
        let date = order.delivery_date;
        let dish = order.items[0].dish_id.clone();
        assert_eq!(
            held.get(&Counter::Portions(date, dish.clone())),
            Some(&i64::from(order.items[0].quantity.get()))
        );
        assert_eq!(held.get(&Counter::Orders(date)), Some(&1));
        let mut cancelled = order.clone();
        cancelled.status = OrderStatus::Cancelled;
        assert!(holding(&cancelled).is_empty());
        // Cancelling releases all it held; a move that keeps the lines and date moves nothing.
        let released = moves(Some(&order), &cancelled);
        assert_eq!(released.get(&Counter::Orders(date)), Some(&-1));
        let mut paid = order.clone();
        paid.status = OrderStatus::Paid;
        assert!(moves(Some(&order), &paid).is_empty());
        // Moving the date releases the old date and holds the new one.
        let mut later = order.clone();
        later.delivery_date = date.add_days(1);
        let moved = moves(Some(&order), &later);
        assert_eq!(moved.get(&Counter::Orders(date)), Some(&-1));
        assert_eq!(moved.get(&Counter::Orders(date.add_days(1))), Some(&1));
        assert_eq!(moved.len(), 4);
    }

    #[test]
    fn counters_live_in_their_dates_partition() {
        let date = Date::parse("2026-12-04").unwrap();
        let dish = DishId::parse(testing::DISH).unwrap();
        let portions = Counter::Portions(date, dish).key();
        assert_eq!(portions["pk"].as_s().unwrap(), "DAY#2026-12-04");
        assert_eq!(
            portions["sk"].as_s().unwrap(),
            &format!("DISH#{}", testing::DISH)
        );
        assert_eq!(Counter::Orders(date).key()["sk"].as_s().unwrap(), "ORDERS");
    }
}
