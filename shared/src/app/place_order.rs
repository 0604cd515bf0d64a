//! Placing an order as a customer: from explicit items, or by checking out the cart (emptied in the
//! same transaction). Staff orders (`staff_orders`) commit through the same `Orders::commit`.

use super::{
    Orders, calendar,
    idempotency::{Idempotency, Outcome},
    pricing::{self, LineRequest},
};
use crate::{
    caller::Credentials,
    db::{IdempotentRequest, PlaceOrderError},
    domain::{Actor, Address, Date, IdempotencyKey, OrderNote},
    domain::{Order, User},
    error::ApiError,
    events::OrderEventKind,
};
use serde::{Deserialize, Serialize};

/// The idempotency scope of a customer's order: one key on two routes means two things.
const SCOPE: &str = "POST /orders";

/// What a customer asks for.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub delivery_date: Date,
    pub delivery_address: Address,
    /// Without items, the cart is checked out.
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub items: Option<Vec<LineRequest>>,
    /// Special instructions for the kitchen.
    #[serde(default, deserialize_with = "crate::domain::non_null")]
    pub note: Option<OrderNote>,
}

impl Orders<'_> {
    /// Places `request` for the caller. One read for the session, the cart, the key's record and the
    /// dishes of explicit items; a cart checkout reads its dishes once the cart says which.
    pub async fn place(
        &self,
        credentials: Credentials,
        key: Option<IdempotencyKey>,
        request: PlaceOrder,
    ) -> Result<Outcome<Order>, ApiError> {
        if let Some(items) = &request.items {
            pricing::check_lines(items)?;
        }
        let idempotent = key
            .map(|key| IdempotentRequest::new(credentials.user_id.clone(), SCOPE, key, &request));
        let named: Vec<_> = request
            .items
            .iter()
            .flatten()
            .map(|line| line.dish_id.clone())
            .collect();
        let (caller, reads) = self
            .db
            .checkout_reads(&credentials, idempotent.as_ref(), &named, crate::now())
            .await?
            .authorise(credentials)?;
        let caller = caller.with_verified_email()?;
        let run = Idempotency::new(self.db, idempotent);
        if let Some(first) = run.replay(reads.idempotency)? {
            return Ok(Outcome::Replayed(first));
        }
        let now = crate::now();
        let kitchen = calendar::in_force(reads.kitchen, &self.rules.kitchen_zone);
        pricing::check_delivery_date(request.delivery_date, kitchen.today(now))?;
        calendar::check_open(&kitchen, request.delivery_date, now)?;
        let cart = reads.cart;
        let (lines, field, cart_version, dishes) = match request.items {
            Some(items) => (items, "items", None, reads.dishes),
            None => {
                if cart.lines.is_empty() {
                    return Err(ApiError::Unprocessable {
                        detail: "the cart is empty".into(),
                        errors: Vec::new(),
                    });
                }
                let dishes = self.db.get_dishes(&cart.dish_ids()).await?;
                let lines = cart.lines.iter().map(LineRequest::from).collect();
                (lines, "cart.items", Some(cart.version), dishes)
            }
        };
        let (items, total) = pricing::price(&dishes, &lines, request.delivery_date, field)?;
        let order = Order {
            note: request.note,
            ..pricing::new_order(
                &caller.user,
                items,
                total,
                request.delivery_date,
                request.delivery_address,
                Actor::Customer,
                now,
            )
        };
        let limits = calendar::limits(&dishes, &kitchen);
        let placed = Placing {
            customer: &caller.user,
            cart_version,
            field,
            limits: &limits,
        };
        self.commit(order, placed, &run).await
    }

    /// Commits a new order with its portions and day slot (emptying the cart at `cart_version`
    /// if given, recording the key's answer if there is a key), then announces `order.placed` to
    /// the customer's phone. No room left is a 422 naming each dish short and what is left.
    pub(crate) async fn commit(
        &self,
        order: Order,
        placing: Placing<'_>,
        run: &Idempotency<'_>,
    ) -> Result<Outcome<Order>, ApiError> {
        let body = serde_json::to_string(&order).map_err(ApiError::internal)?;
        match self
            .db
            .place_order(
                &order,
                placing.cart_version,
                run.record(&body),
                placing.limits,
            )
            .await
        {
            Ok(()) => {}
            Err(PlaceOrderError::Full(full)) => {
                return Err(calendar::no_room(
                    self.db,
                    &order,
                    placing.field,
                    placing.limits,
                    &full,
                )
                .await);
            }
            Err(PlaceOrderError::KeyUsed) => return Ok(Outcome::Replayed(run.taken().await?)),
            Err(PlaceOrderError::CartChanged) => {
                return Err(ApiError::Conflict(
                    "the cart changed while checking out; review it and try again".into(),
                ));
            }
            Err(PlaceOrderError::Db(err)) => return Err(err.into()),
        }
        tracing::info!(order_id = %order.id, total = order.total.minor_units(), "order placed");
        let placed_by = if order.placed_by == crate::domain::PlacedBy::Admin {
            "admin"
        } else {
            "customer"
        };
        crate::metrics::ORDERS_PLACED.count([placed_by]);
        self.announcer()
            .announce(&order, OrderEventKind::Placed, Some(placing.customer))
            .await;
        Ok(Outcome::Done(order))
    }
}

/// What committing a new order needs besides the order: its customer, the cart it empties (at
/// that version), where its lines came from in the request, and the limits it must fit.
pub(crate) struct Placing<'a> {
    pub customer: &'a User,
    pub cart_version: Option<u64>,
    pub field: &'a str,
    pub limits: &'a crate::db::Limits,
}
