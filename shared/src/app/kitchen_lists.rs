//! The lists the kitchen works from: the cook's production list for one delivery day (what to
//! cook, and for whom), and the owner's sales over a range of days (takings, refunds, best
//! sellers). Both are read from the orders themselves, through the delivery-date index.

use super::Orders;
use crate::{
    caller::StaffClaim,
    db::Sale,
    domain::{Address, Date, DishId, Money, OrderId, OrderItem, OrderNote, OrderStatus},
    domain::{PhoneNumber, User},
    error::ApiError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The statuses of the orders the kitchen cooks: paid, and not yet delivered.
const TO_COOK: [OrderStatus; 3] = [
    OrderStatus::Paid,
    OrderStatus::Preparing,
    OrderStatus::OutForDelivery,
];

/// The longest range one sales report covers, in days (a quarter).
pub const MAX_REPORT_DAYS: i64 = 92;

/// One day's production list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepList {
    pub date: Date,
    /// Every dish to cook, most portions first.
    pub dishes: Vec<PrepDish>,
    /// Every order to cook, oldest first.
    pub orders: Vec<PrepOrder>,
}

/// How much of one dish the day's orders hold, and in how many orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepDish {
    pub dish_id: DishId,
    pub dish_name: String,
    pub quantity: u32,
    pub orders: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepOrder {
    pub id: OrderId,
    pub status: OrderStatus,
    pub customer: PrepCustomer,
    pub delivery_address: Address,
    pub items: Vec<OrderItem>,
    pub note: Option<OrderNote>,
}

/// Who the order is for, as the customer's profile reads now (a phone changed since the order was
/// placed is the one to call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepCustomer {
    pub name: Option<String>,
    pub phone: Option<PhoneNumber>,
}

impl PrepCustomer {
    fn of(user: Option<&User>) -> Self {
        let Some(user) = user else {
            return Self {
                name: None,
                phone: None,
            };
        };
        let name = [&user.first_name, &user.last_name]
            .into_iter()
            .flatten()
            .map(|part| part.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            name: (!name.is_empty()).then_some(name),
            phone: user.phone.clone(),
        }
    }
}

/// The sales of a range of delivery days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesReport {
    pub from: Date,
    pub to: Date,
    /// Every day of the range in order, days without sales included.
    pub days: Vec<SalesDay>,
    /// Every dish sold in the range, most portions first.
    pub top_dishes: Vec<DishSales>,
    pub totals: SalesTotals,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SalesTotals {
    pub orders_paid: u32,
    pub revenue: Money,
    pub refunded: Money,
    pub net: Money,
}

impl SalesTotals {
    fn add(&mut self, sale: &Sale) {
        // A refund gives back money the order brought in; what Paystack gave back of a second
        // charge for the same order is more than the order's price and is not its revenue.
        let refunded = sale.refunded_amount.min(sale.total);
        self.orders_paid += 1;
        self.revenue = self.revenue + sale.total;
        self.refunded = self.refunded + refunded;
        self.net = self.revenue.less(self.refunded);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SalesDay {
    pub date: Date,
    #[serde(flatten)]
    pub sales: SalesTotals,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DishSales {
    pub dish_id: DishId,
    pub dish_name: String,
    pub quantity: u32,
    pub revenue: Money,
}

/// The range a report is asked for: `from` to `to`, both included.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRange {
    pub from: Date,
    pub to: Date,
}

impl ReportRange {
    /// The range, if it runs forwards and is at most [`MAX_REPORT_DAYS`] long.
    pub fn checked(self) -> Result<Self, ApiError> {
        if self.to < self.from {
            return Err(ApiError::invalid_field("to", "must not be before from"));
        }
        if self.days() > MAX_REPORT_DAYS {
            return Err(ApiError::invalid_field(
                "to",
                format!("a report covers at most {MAX_REPORT_DAYS} days"),
            ));
        }
        Ok(self)
    }

    fn days(self) -> i64 {
        (self.to.days_since(self.from)) + 1
    }
}

impl Orders<'_> {
    /// What the kitchen cooks for `date`: every paid order not yet delivered, with its customer,
    /// and the dishes they add up to. One Query of the day, then its customers in one batch.
    pub async fn prep_list(&self, _staff: StaffClaim, date: Date) -> Result<PrepList, ApiError> {
        let orders = self.db.orders_delivered_on(date, &TO_COOK).await?;
        let ids: Vec<_> = orders.iter().map(|order| order.user_id.clone()).collect();
        let customers = self.db.get_users(&ids).await?;
        let customers: HashMap<_, _> = customers.iter().map(|user| (&user.id, user)).collect();
        let mut dishes: Vec<PrepDish> = Vec::new();
        for order in &orders {
            for line in &order.items {
                let dish = tally(
                    &mut dishes,
                    line,
                    |dish| &dish.dish_id,
                    || PrepDish {
                        dish_id: line.dish_id.clone(),
                        dish_name: line.dish_name.clone(),
                        quantity: 0,
                        orders: 0,
                    },
                );
                dish.quantity += line.quantity.get();
                dish.orders += 1;
            }
        }
        dishes.sort_by(|a, b| {
            (b.quantity, &a.dish_name, a.dish_id.as_str()).cmp(&(
                a.quantity,
                &b.dish_name,
                b.dish_id.as_str(),
            ))
        });
        let orders = orders
            .into_iter()
            .map(|order| PrepOrder {
                customer: PrepCustomer::of(customers.get(&order.user_id).copied()),
                id: order.id,
                status: order.status,
                delivery_address: order.delivery_address,
                items: order.items,
                note: order.note,
            })
            .collect();
        Ok(PrepList {
            date,
            dishes,
            orders,
        })
    }

    /// The sales of the orders delivered in `range` that were paid (whatever became of them
    /// since; a refund counts on the order's delivery day). One Query of just those days.
    pub async fn sales_report(
        &self,
        _staff: StaffClaim,
        range: ReportRange,
    ) -> Result<SalesReport, ApiError> {
        let range = range.checked()?;
        let sales = self.db.sales_between(range.from, range.to).await?;
        Ok(report(range, &sales))
    }
}

/// The report of `sales`, each of them delivered within `range`.
fn report(range: ReportRange, sales: &[Sale]) -> SalesReport {
    let mut days: Vec<SalesDay> = (0..range.days())
        .map(|offset| SalesDay {
            date: range.from.add_days(offset),
            sales: SalesTotals::default(),
        })
        .collect();
    let mut totals = SalesTotals::default();
    let mut dishes: Vec<DishSales> = Vec::new();
    for sale in sales {
        let offset = sale.delivery_date.days_since(range.from);
        if let Some(day) = usize::try_from(offset).ok().and_then(|i| days.get_mut(i)) {
            day.sales.add(sale);
        }
        totals.add(sale);
        for line in &sale.items {
            let dish = tally(
                &mut dishes,
                line,
                |dish| &dish.dish_id,
                || DishSales {
                    dish_id: line.dish_id.clone(),
                    dish_name: line.dish_name.clone(),
                    quantity: 0,
                    revenue: Money::ZERO,
                },
            );
            dish.quantity += line.quantity.get();
            dish.revenue = dish.revenue + line.line_total;
        }
    }
    dishes.sort_by(|a, b| {
        (b.quantity, b.revenue, &a.dish_name).cmp(&(a.quantity, a.revenue, &b.dish_name))
    });
    SalesReport {
        from: range.from,
        to: range.to,
        days,
        top_dishes: dishes,
        totals,
    }
}

/// The running total of `line`'s dish in `tallies`, started with `empty` the first time the dish
/// is seen (a kitchen's menu is a few dozen dishes: a list in first-seen order does).
fn tally<'a, T>(
    tallies: &'a mut Vec<T>,
    line: &OrderItem,
    dish_id: impl Fn(&T) -> &DishId,
    empty: impl FnOnce() -> T,
) -> &'a mut T {
    let at = match tallies
        .iter()
        .position(|tally| *dish_id(tally) == line.dish_id)
    {
        Some(at) => at,
        None => {
            tallies.push(empty());
            tallies.len() - 1
        }
    };
    &mut tallies[at]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Quantity};

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    fn line(dish: &DishId, name: &str, quantity: u32, unit: i64) -> OrderItem {
        let quantity = Quantity::parse(quantity).unwrap();
        let unit_price = Money::from_minor_units(unit);
        OrderItem {
            dish_id: dish.clone(),
            dish_name: name.into(),
            unit_price,
            quantity,
            line_total: unit_price.times(quantity),
            currency: Currency::Ngn,
        }
    }

    fn sale(on: &str, items: Vec<OrderItem>, refunded: i64) -> Sale {
        Sale {
            delivery_date: date(on),
            total: items.iter().map(|line| line.line_total).sum(),
            items,
            refunded_amount: Money::from_minor_units(refunded),
        }
    }

    #[test]
    fn a_range_must_run_forwards_and_cover_at_most_92_days() {
        let range = |from, to| ReportRange {
            from: date(from),
            to: date(to),
        };
        assert!(range("2026-12-01", "2026-12-01").checked().is_ok());
        assert!(range("2026-12-01", "2027-03-02").checked().is_ok()); // 92 days
        assert!(range("2026-12-01", "2027-03-03").checked().is_err());
        assert!(range("2026-12-02", "2026-12-01").checked().is_err());
    }

    #[test]
    fn a_report_has_every_day_its_totals_and_the_dishes_most_sold_first() {
        let (jollof, egusi) = (DishId::new(), DishId::new());
        let sales = [
            sale("2026-12-01", vec![line(&jollof, "Jollof", 2, 250_000)], 0),
            sale(
                "2026-12-03",
                vec![
                    line(&jollof, "Jollof", 1, 250_000),
                    line(&egusi, "Egusi", 4, 100_000),
                ],
                150_000,
            ),
            // Refunded more than it cost (a second charge given back): its own price at most.
            sale(
                "2026-12-03",
                vec![line(&egusi, "Egusi", 1, 100_000)],
                200_000,
            ),
        ];
        let range = ReportRange {
            from: date("2026-12-01"),
            to: date("2026-12-04"),
        };
        let report = report(range, &sales);
        assert_eq!(report.days.len(), 4);
        assert_eq!(report.days[1].sales, SalesTotals::default());
        let third = report.days[2].sales;
        assert_eq!(third.orders_paid, 2);
        assert_eq!(third.revenue, Money::from_minor_units(750_000));
        assert_eq!(third.refunded, Money::from_minor_units(250_000));
        assert_eq!(third.net, Money::from_minor_units(500_000));
        assert_eq!(report.totals.orders_paid, 3);
        assert_eq!(report.totals.revenue, Money::from_minor_units(1_250_000));
        assert_eq!(report.totals.net, Money::from_minor_units(1_000_000));
        let top: Vec<_> = report
            .top_dishes
            .iter()
            .map(|dish| {
                (
                    dish.dish_name.as_str(),
                    dish.quantity,
                    dish.revenue.minor_units(),
                )
            })
            .collect();
        assert_eq!(top, [("Egusi", 5, 500_000), ("Jollof", 3, 750_000)]);
    }
}
