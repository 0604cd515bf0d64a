//! What the item layout tests share: one value of each entity, with fixed ids so that the keys the
//! tests pin are readable, and the view of an item those tests compare.

use super::{Item, NewUser, attr};
use crate::app::pricing::new_order;
use crate::domain::{
    Actor, Address, Cart, Currency, Date, Description, Dish, DishId, DishName, DishType, Email,
    Order, OrderId, Payment, PaymentReference, PersonName, Price, Session, SessionId, User, UserId,
};
use std::time::Duration;
use time::{OffsetDateTime, macros::datetime};

pub(crate) const USER: &str = "01KB0000000000000000000001";
pub(crate) const SESSION: &str = "01KB0000000000000000000002";
pub(crate) const DISH: &str = "01KB0000000000000000000003";
pub(crate) const ORDER: &str = "01KB0000000000000000000004";
pub(crate) const PAYMENT: &str = "01KB0000000000000000000005";

/// The entity, key and index attributes an item holds, in this order: a layout test compares this
/// list whole, so an attribute added, dropped or changed shows in its diff.
pub(crate) fn layout(item: &Item) -> Vec<(&'static str, &str)> {
    let names = [
        attr::ENTITY,
        attr::PK,
        attr::SK,
        attr::GSI1PK,
        attr::GSI1SK,
        attr::GSI2PK,
        attr::GSI2SK,
        attr::GSI3PK,
        attr::GSI3SK,
    ];
    names
        .into_iter()
        .filter_map(|name| Some((name, item.get(name)?.as_s().ok()?.as_str())))
        .collect()
}

pub(crate) fn at() -> OffsetDateTime {
    datetime!(2026-12-01 10:00 UTC)
}

pub(crate) fn user_id() -> UserId {
    UserId::parse(USER).unwrap()
}

pub(crate) fn email() -> Email {
    Email::parse("Ada@Example.com").unwrap()
}

pub(crate) fn user() -> User {
    let new = NewUser {
        email: Some(email()),
        first_name: Some(PersonName::parse("Ada").unwrap()),
        last_name: Some(PersonName::parse("Lovelace").unwrap()),
        ..NewUser::default()
    };
    User {
        id: user_id(),
        ..new.into_user(at())
    }
}

pub(crate) fn session() -> Session {
    let day = Duration::from_secs(24 * 3600);
    let session = SessionId::parse(SESSION).unwrap();
    Session::start(&user(), session, "hash".into(), at(), day, 30 * day)
}

pub(crate) fn dish() -> Dish {
    Dish {
        id: DishId::parse(DISH).unwrap(),
        name: DishName::parse("Jollof  Rice").unwrap(),
        description: Description::parse("Smoky party rice").unwrap(),
        price: Price::parse(250_000).unwrap(),
        currency: Currency::Ngn,
        dish_type: DishType::Lunch,
        tags: Vec::new(),
        available_from: Date::parse("2026-12-01").unwrap(),
        available_until: Some(Date::parse("2026-12-31").unwrap()),
        active: true,
        daily_portions: None,
        created_at: at(),
        updated_at: at(),
    }
}

pub(crate) fn cart() -> Cart {
    Cart {
        lines: Vec::new(),
        version: 2,
    }
}

/// An order as the API places it (`pricing::new_order`), with a fixed id.
pub(crate) fn order() -> Order {
    let date = Date::parse("2026-12-24").unwrap();
    let address = Address::parse("1 Marina, Lagos").unwrap();
    let placed = new_order(
        &user(),
        Vec::new(),
        crate::domain::Money::from_minor_units(250_000),
        date,
        address,
        Actor::Customer,
        at(),
    );
    Order {
        id: OrderId::parse(ORDER).unwrap(),
        ..placed
    }
}

pub(crate) fn payment() -> Payment {
    Payment {
        reference: PaymentReference::parse(PAYMENT).unwrap(),
        ..Payment::start(&order(), at())
    }
}

pub(crate) fn refund() -> crate::domain::Refund {
    use crate::domain::{Refund, RefundId, RequestedBy};
    let payment = payment();
    Refund {
        id: RefundId::parse("01KB0000000000000000000006").unwrap(),
        ..Refund::of(
            &payment,
            payment.amount,
            "the kitchen cancelled the order",
            RequestedBy::Admin,
            None,
            at(),
        )
    }
}
