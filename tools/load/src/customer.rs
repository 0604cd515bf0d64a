//! A simulated customer: signs up or logs in, browses, fills a cart, checks out with an
//! Idempotency-Key, and pays through the Paystack simulator, over and over. Mixed in, by chance:
//! replayed and concurrent duplicate requests, duplicate and concurrent webhooks, a declined card
//! paid on a second try, a retry whose earlier attempt is paid late, a payment arriving after the
//! order was cancelled, and a webhook replayed after staff moved the order on.
//!
//! A customer checks each answer it can judge on the spot (a replay must name the same order, a
//! failed payment start must leave the order as it was, …) and writes what it learnt to the ledger,
//! which the invariants hold the table to afterwards. A 5xx or a missing answer is retried after a
//! pause (these are expected while a fault is injected; the run decides afterwards whether each one
//! was allowed).

use crate::client::{Answer, Body, Http};
use crate::ledger::{ChargeFacts, Ledger, OrderFacts, Via};
use crate::verdict::Violations;
use crate::webhook::{self, ChargeDetails, SIGNATURE_HEADER, SignedEvent};
use reqwest::Method;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// How long a step keeps retrying 5xx before the customer gives up on it.
const PATIENCE: Duration = Duration::from_secs(40);
/// How long a charge that moved money keeps being confirmed (verify, or its event sent again).
const CONFIRM_PATIENCE: Duration = Duration::from_secs(90);

/// What came of a status change whose answers may have been 5xx.
enum Changed {
    Yes,
    /// Still not known when the customer's patience ran out.
    Unknown,
    /// Refused outright: this answer.
    Refused(Answer),
}

/// What every customer shares.
pub struct Shared {
    pub http: Http,
    pub ledger: Ledger,
    pub violations: Arc<Violations>,
    pub secret_key: String,
    /// Unique per run, in every email and key the run makes.
    pub run_id: String,
    /// Delivery date of every order (tomorrow), also the menu date browsed.
    pub delivery_date: String,
    /// Held shared from paying on the simulator until the charge is confirmed. The run takes it
    /// exclusively before stopping the simulator, whose transactions live only in its memory: a
    /// payment it forgot could never be verified.
    pub checkout: RwLock<()>,
    pub stopping: AtomicBool,
    pub admin_email: String,
    pub admin_password: String,
    admin_token: Mutex<Option<String>>,
    /// Paystack-style transaction ids for the events the load signs itself (above 32 bits).
    next_charge_id: AtomicU64,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        http: Http,
        violations: Arc<Violations>,
        secret_key: String,
        run_id: String,
        delivery_date: String,
        admin_email: String,
        admin_password: String,
    ) -> Self {
        Self {
            http,
            ledger: Ledger::default(),
            violations,
            secret_key,
            run_id,
            delivery_date,
            checkout: RwLock::new(()),
            stopping: AtomicBool::new(false),
            admin_email,
            admin_password,
            admin_token: Mutex::new(None),
            next_charge_id: AtomicU64::new(9_000_000_000),
        }
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// An admin request, logging the admin in first (and again if the token stopped working).
    pub async fn admin(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        self.admin_with(route, method, path, &[], body).await
    }

    /// [`Shared::admin`] with request headers (an `Idempotency-Key`).
    pub async fn admin_with(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut token = self.admin_token.lock().await;
        let mut last = None;
        for _ in 0..2 {
            if token.is_none() {
                let login = self
                    .http
                    .api(
                        "POST /auth/login",
                        Method::POST,
                        "/auth/login",
                        None,
                        &[],
                        Body::Json(
                            json!({"email": self.admin_email, "password": self.admin_password}),
                        ),
                    )
                    .await;
                if login.status != 200 {
                    return login;
                }
                *token = Some(login.text("access_token"));
            }
            let answer = self
                .http
                .api(
                    route,
                    method.clone(),
                    path,
                    token.as_deref(),
                    headers,
                    body.clone().map_or(Body::Empty, Body::Json),
                )
                .await;
            if answer.status != 401 {
                return answer;
            }
            *token = None;
            last = Some(answer);
        }
        last.unwrap_or_else(|| unreachable!("the loop runs at least once"))
    }
}

/// The customer gave up on this iteration (a dependency stayed down, or an answer was wrong and
/// has been reported); the next iteration starts afresh.
#[derive(Debug)]
pub struct GaveUp;

pub type Step<T> = Result<T, GaveUp>;

#[derive(Debug, Clone)]
struct User {
    id: String,
    email: String,
    password: String,
    token: String,
    refresh: String,
}

/// An order the customer got a 201 for.
#[derive(Debug, Clone)]
pub struct Placed {
    pub id: String,
    pub total: i64,
    pub currency: String,
    pub updated_at: String,
}

/// A payment attempt the customer got a 201 for.
#[derive(Debug, Clone)]
pub struct Started {
    pub reference: String,
    pub amount: i64,
    pub currency: String,
}

/// How an iteration pays (or does not pay) for its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Start a payment, pay on the simulator, sometimes re-send its webhook and verify.
    Plain,
    /// Leave the order unpaid, sometimes with a checkout never finished.
    Unpaid,
    /// The simulator's webhook, three signed copies and a verify, all at once.
    ConcurrentDuplicates,
    /// The card is declined, verify records it, then the second try succeeds.
    DeclinedThenPaid,
    /// Two attempts; the second is paid, then a success for the first arrives (a refund is due).
    LateEarlierAttempt,
    /// The order is cancelled, then a success for its attempt arrives (a refund is due).
    PaidAfterCancel,
    /// Paid, moved to `preparing` by staff, then its webhook is replayed.
    ReplayAfterMovedOn,
    /// Paid, then staff refund half of it (the same request twice at once, with one key), ask
    /// for more than is left, and Paystack processes the refund.
    KitchenRefund,
    /// Paid, then cancelled by staff: the system refunds all of it.
    KitchenCancelsPaid,
}

impl Scenario {
    /// One at random, weighted towards the plain purchase.
    pub fn pick() -> Self {
        match rand::random_range(0..100) {
            0..33 => Scenario::Plain,
            33..39 => Scenario::KitchenRefund,
            39..45 => Scenario::KitchenCancelsPaid,
            45..54 => Scenario::Unpaid,
            54..64 => Scenario::ConcurrentDuplicates,
            64..72 => Scenario::DeclinedThenPaid,
            72..80 => Scenario::LateEarlierAttempt,
            80..88 => Scenario::PaidAfterCancel,
            _ => Scenario::ReplayAfterMovedOn,
        }
    }
}

pub struct Customer {
    shared: Arc<Shared>,
    index: usize,
    user: Option<User>,
    serial: u64,
    /// The last reason a step gave up, for a probe's report.
    pub last_failure: String,
}

/// Whether a 422 says the kitchen has not enough of a dish left.
fn sold_out(answer: &Answer) -> bool {
    answer.json()["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|error| {
            error["field"]
                .as_str()
                .is_some_and(|f| f.ends_with(".quantity"))
                && error["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("portions of"))
        })
}

/// Waits as long as the answer's `Retry-After` says, at most `most` seconds.
async fn back_off_for(answer: &Answer, most: u64) {
    let seconds = answer
        .header("retry-after")
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(1)
        .min(most);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(rand::random_range(250..750))).await;
}

/// Before trying again after `answer`: as long as its `Retry-After` says (the API sends one with
/// every 503), give or take a little so the customers do not all come back at once; otherwise a
/// short pause.
async fn back_off(answer: &Answer) {
    let asked = answer
        .header("retry-after")
        .and_then(|value| value.trim().parse::<u64>().ok());
    match asked {
        Some(seconds) => {
            let millis = seconds.min(10) * 1000;
            let spread = millis / 4 + 1;
            let wait = millis - spread / 2 + rand::random_range(0..spread);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        None => pause().await,
    }
}

impl Customer {
    pub fn new(shared: Arc<Shared>, index: usize) -> Self {
        Self {
            shared,
            index,
            user: None,
            serial: 0,
            last_failure: String::new(),
        }
    }

    /// Loops until the run stops.
    pub async fn run(mut self) {
        while !self.shared.stopping() {
            if self.iteration(Scenario::pick()).await.is_err() {
                pause().await;
            }
        }
    }

    fn http(&self) -> &Http {
        &self.shared.http
    }

    fn token(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.token.as_str())
    }

    fn user_id(&self) -> String {
        self.user.as_ref().map(|u| u.id.clone()).unwrap_or_default()
    }

    /// Reports an answer the customer did not expect, and gives up on the iteration.
    fn unexpected<T>(&mut self, what: &str, answer: &Answer) -> Step<T> {
        let detail = format!("{what}: {}", answer.describe());
        self.shared
            .violations
            .add("unexpected_answer", detail.clone());
        self.last_failure = detail;
        Err(GaveUp)
    }

    fn violation(&self, kind: &'static str, detail: String) {
        self.shared.violations.add(kind, detail);
    }

    /// Sends until an answer that is not a 5xx, pausing between tries, for up to `patience` (cut
    /// short when the run stops, unless `finish`). The last failure if it never came.
    async fn persist<F, Fut>(
        &mut self,
        patience: Duration,
        finish: bool,
        mut send: F,
    ) -> Result<Answer, Answer>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Answer>,
    {
        let deadline = Instant::now() + patience;
        loop {
            let answer = send().await;
            if !answer.failed() {
                return Ok(answer);
            }
            if Instant::now() >= deadline || (!finish && self.shared.stopping()) {
                self.last_failure = format!("still failing: {}", answer.describe());
                return Err(answer);
            }
            back_off(&answer).await;
        }
    }

    /// [`Customer::persist`] for a request to the API with the customer's token.
    async fn call(
        &mut self,
        route: &'static str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Step<Answer> {
        let http = self.http().clone();
        let token = self.token().map(str::to_string);
        self.persist(PATIENCE, false, || {
            let body = match &body {
                Some(value) => Body::Json(value.clone()),
                None => Body::Empty,
            };
            http.api(route, method.clone(), path, token.as_deref(), headers, body)
        })
        .await
        .map_err(|_| GaveUp)
    }

    /// Browse, fill the cart and check out: an order awaiting payment.
    pub async fn place_order(&mut self) -> Step<Placed> {
        if self.user.is_none() {
            self.register().await?;
        }
        let dishes = self.browse().await?;
        self.fill_cart(&dishes).await?;
        self.check_out().await
    }

    /// The customer's access token (a probe sends single requests with it).
    pub fn access_token(&self) -> String {
        self.token().unwrap_or_default().to_string()
    }

    /// One pass: sign in, browse, fill the cart, check out, then pay as `scenario` says.
    pub async fn iteration(&mut self, scenario: Scenario) -> Step<()> {
        self.sign_in().await?;
        let dishes = self.browse().await?;
        self.fill_cart(&dishes).await?;
        let order = self.check_out().await?;
        match scenario {
            Scenario::Plain => self.plain(&order).await,
            Scenario::Unpaid => {
                if rand::random_bool(0.5) {
                    self.start_payment(&order, true).await?;
                }
                Ok(())
            }
            Scenario::ConcurrentDuplicates => self.concurrent_duplicates(&order).await,
            Scenario::DeclinedThenPaid => self.declined_then_paid(&order).await,
            Scenario::LateEarlierAttempt => self.late_earlier_attempt(&order).await,
            Scenario::PaidAfterCancel => self.paid_after_cancel(&order).await,
            Scenario::ReplayAfterMovedOn => self.replay_after_moved_on(&order).await,
            Scenario::KitchenRefund => self.kitchen_refund(&order).await,
            Scenario::KitchenCancelsPaid => self.kitchen_cancels_paid(&order).await,
        }
    }

    // --- signing in, browsing, the cart, checkout ------------------------------------------------

    async fn sign_in(&mut self) -> Step<()> {
        if self.user.is_none() || rand::random_bool(0.2) {
            self.register().await
        } else if rand::random_bool(0.2) {
            self.login().await
        } else if rand::random_bool(0.25) {
            self.refresh().await
        } else {
            Ok(())
        }
    }

    /// Swaps the refresh token for a new pair, as a client does when its access token runs out.
    async fn refresh(&mut self) -> Step<()> {
        let Some(user) = self.user.clone() else {
            return self.login().await;
        };
        let answer = self
            .call(
                "POST /auth/refresh",
                Method::POST,
                "/auth/refresh",
                &[],
                Some(json!({"refresh_token": user.refresh})),
            )
            .await?;
        match answer.status {
            200 => {
                self.user = Some(User {
                    token: answer.text("access_token"),
                    refresh: answer.text("refresh_token"),
                    ..user
                });
                Ok(())
            }
            // A retry of a refresh whose first answer was lost presents a rotated token: the
            // session ends, as it should, and the customer signs in again.
            401 => self.login().await,
            _ => self.unexpected("refresh", &answer),
        }
    }

    /// Opens the link of the verification email the sign-up sent, as the customer would: orders
    /// and payments need a verified email.
    async fn verify_email(&mut self, email: &str) -> Step<()> {
        let mut token = self.await_verification_email(email).await;
        for _ in 0..2 {
            if token.is_some() {
                break;
            }
            // A sign-up cut off after it committed (a fault) sent no email, or it was lost: the
            // customer asks for another, as the app offers (waiting as long as a 429 says).
            let resend = self
                .call(
                    "POST /auth/email/resend",
                    Method::POST,
                    "/auth/email/resend",
                    &[],
                    None,
                )
                .await?;
            match resend.status {
                202 => token = self.await_verification_email(email).await,
                429 => {
                    back_off_for(&resend, 60).await;
                    token = self.await_verification_email(email).await;
                }
                // Verified meanwhile (a verify whose answer was lost).
                409 => return Ok(()),
                _ => return self.unexpected("resend the verification email", &resend),
            }
        }
        let Some(token) = token else {
            self.violation(
                "verification_email_missing",
                format!("no verification email reached {email}"),
            );
            self.last_failure = format!("no verification email to {email}");
            return Err(GaveUp);
        };
        let answer = self
            .call(
                "POST /auth/email/verify",
                Method::POST,
                "/auth/email/verify",
                &[],
                Some(json!({"token": token})),
            )
            .await?;
        match answer.status {
            200 => Ok(()),
            // A retried verify whose first answer was lost: the token is used up, and the email is
            // verified. Login (next) says whether it is.
            400 => Ok(()),
            _ => self.unexpected("verify email", &answer),
        }
    }

    /// The token of the newest verification email to `email`, waiting up to 5 s for it.
    async fn await_verification_email(&self, email: &str) -> Option<String> {
        for _ in 0..20 {
            let token = self.http().mailed_token(email, "/auth/email/verify").await;
            if token.is_some() {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        None
    }

    pub async fn register(&mut self) -> Step<()> {
        self.serial += 1;
        let email = format!(
            "load-{}-{}-{}@example.com",
            self.shared.run_id, self.index, self.serial
        );
        let password = format!("load password {}", self.shared.run_id);
        let body = json!({
            "email": email,
            "password": password,
            "first_name": "Load",
            "last_name": format!("Customer {}", self.index),
            "phone": format!("+234803{:07}", rand::random_range(0..10_000_000)),
            "address": format!("{} Load Street, Lagos", self.index + 1),
        });
        let answer = self
            .call(
                "POST /auth/register",
                Method::POST,
                "/auth/register",
                &[],
                Some(body),
            )
            .await?;
        let mut user = User {
            id: String::new(),
            email,
            password,
            token: String::new(),
            refresh: String::new(),
        };
        match answer.status {
            201 => {
                let json = answer.json();
                user.id = json["user"]["id"].as_str().unwrap_or_default().to_string();
                user.token = answer.text("access_token");
                user.refresh = answer.text("refresh_token");
                self.shared.ledger.user(&user.id);
                let email = user.email.clone();
                self.user = Some(user);
                self.verify_email(&email).await
            }
            // An earlier try committed but its answer was lost: the account is there.
            409 => {
                let email = user.email.clone();
                self.user = Some(user);
                self.login().await?;
                self.verify_email(&email).await
            }
            _ => self.unexpected("register", &answer),
        }
    }

    async fn login(&mut self) -> Step<()> {
        let Some(user) = self.user.clone() else {
            self.last_failure = "login before any sign-up".to_string();
            return Err(GaveUp);
        };
        let body = json!({"email": user.email, "password": user.password});
        let answer = self
            .call(
                "POST /auth/login",
                Method::POST,
                "/auth/login",
                &[],
                Some(body),
            )
            .await?;
        if answer.status != 200 {
            return self.unexpected("login", &answer);
        }
        let id = answer.json()["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.shared.ledger.user(&id);
        self.user = Some(User {
            id,
            token: answer.text("access_token"),
            refresh: answer.text("refresh_token"),
            ..user
        });
        Ok(())
    }

    /// A user made before a fault logs in: the table kept its data.
    pub async fn login_again(&mut self) -> Step<()> {
        self.login().await
    }

    async fn browse(&mut self) -> Step<Vec<String>> {
        let date = self.shared.delivery_date.clone();
        let path = format!("/dishes?date={date}&limit=20");
        let answer = self
            .call("GET /dishes", Method::GET, &path, &[], None)
            .await?;
        if answer.status != 200 {
            return self.unexpected("menu", &answer);
        }
        // A customer does not pick what the menu says is sold out.
        let ids: Vec<String> = answer.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|dish| dish["sold_out"] != true)
            .filter_map(|dish| dish["id"].as_str().map(str::to_string))
            .collect();
        if ids.is_empty() {
            return self.unexpected("menu (no dishes)", &answer);
        }
        if rand::random_bool(0.2) {
            let id = &ids[rand::random_range(0..ids.len())];
            let answer = self
                .call(
                    "GET /dishes/{id}",
                    Method::GET,
                    &format!("/dishes/{id}"),
                    &[],
                    None,
                )
                .await?;
            if answer.status != 200 {
                return self.unexpected("one dish", &answer);
            }
        }
        if rand::random_bool(0.1) {
            let path = format!("/dishes?date={date}&q=rice");
            let answer = self
                .call("GET /dishes", Method::GET, &path, &[], None)
                .await?;
            if answer.status != 200 {
                return self.unexpected("menu search", &answer);
            }
        }
        Ok(ids)
    }

    async fn fill_cart(&mut self, dishes: &[String]) -> Step<()> {
        let lines = rand::random_range(1..=3usize).min(dishes.len());
        let mut chosen: Vec<&String> = Vec::new();
        while chosen.len() < lines {
            let dish = &dishes[rand::random_range(0..dishes.len())];
            if !chosen.contains(&dish) {
                chosen.push(dish);
            }
        }
        for dish in chosen {
            let body = json!({"dish_id": dish, "quantity": rand::random_range(1..=3)});
            let mut answer = self
                .call(
                    "POST /cart/items",
                    Method::POST,
                    "/cart/items",
                    &[],
                    Some(body.clone()),
                )
                .await?;
            if answer.status == 422 {
                // Lines left by checkouts that failed earlier reached a limit: start the cart over.
                self.empty_cart().await?;
                answer = self
                    .call(
                        "POST /cart/items",
                        Method::POST,
                        "/cart/items",
                        &[],
                        Some(body),
                    )
                    .await?;
            }
            // 201 for a new line; 200 when the dish was in the cart already and its line grew.
            if !matches!(answer.status, 200 | 201) {
                return self.unexpected("add to cart", &answer);
            }
        }
        if rand::random_bool(0.3) {
            let answer = self
                .call("GET /cart", Method::GET, "/cart", &[], None)
                .await?;
            if answer.status != 200 {
                return self.unexpected("cart", &answer);
            }
        }
        Ok(())
    }

    async fn empty_cart(&mut self) -> Step<()> {
        let cart = self
            .call("GET /cart", Method::GET, "/cart", &[], None)
            .await?;
        if cart.status != 200 {
            return self.unexpected("cart", &cart);
        }
        let lines: Vec<String> = cart.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|line| line["id"].as_str().map(str::to_string))
            .collect();
        for line in lines {
            let answer = self
                .call(
                    "DELETE /cart/items/{line_id}",
                    Method::DELETE,
                    &format!("/cart/items/{line}"),
                    &[],
                    None,
                )
                .await?;
            if !matches!(answer.status, 204 | 404) {
                return self.unexpected("remove from cart", &answer);
            }
        }
        Ok(())
    }

    /// `POST /orders` with a key until it answers; 409 means the same key is still in progress.
    async fn place_with_key(&mut self, key: &str, body: &Value) -> Result<Answer, Answer> {
        let http = self.http().clone();
        let token = self.token().map(str::to_string);
        let headers = [("idempotency-key", key)];
        let mut answer;
        let mut tries = 0;
        loop {
            answer = self
                .persist(PATIENCE, false, || {
                    http.api(
                        "POST /orders",
                        Method::POST,
                        "/orders",
                        token.as_deref(),
                        &headers,
                        Body::Json(body.clone()),
                    )
                })
                .await?;
            tries += 1;
            if answer.status != 409 || tries > 5 {
                return Ok(answer);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn check_out(&mut self) -> Step<Placed> {
        let key = format!(
            "order-{}-{}-{}-{}",
            self.shared.run_id,
            self.index,
            self.serial,
            rand::random::<u32>()
        );
        let body = json!({
            "delivery_date": self.shared.delivery_date,
            "delivery_address": format!("{} Load Street, Lagos", self.index + 1),
        });
        let answers = if rand::random_bool(0.1) {
            // The same request twice at once, as a client retrying too eagerly would send it.
            let mut twin = Customer {
                shared: self.shared.clone(),
                index: self.index,
                user: self.user.clone(),
                serial: self.serial,
                last_failure: String::new(),
            };
            let (a, b) = tokio::join!(
                self.place_with_key(&key, &body),
                twin.place_with_key(&key, &body)
            );
            vec![a, b]
        } else {
            vec![self.place_with_key(&key, &body).await]
        };
        let mut placed: Option<Answer> = None;
        for answer in &answers {
            match answer {
                Err(_) => {
                    self.shared.ledger.unanswered_order(&self.user_id());
                    return Err(GaveUp);
                }
                Ok(answer) if answer.status == 201 => {
                    if let Some(first) = &placed
                        && first.text("id") != answer.text("id")
                    {
                        self.violation(
                            "idempotency_key_made_two_orders",
                            format!(
                                "key {key}: orders {} and {}",
                                first.text("id"),
                                answer.text("id")
                            ),
                        );
                    }
                    placed = Some(answer.clone());
                }
                Ok(answer) if answer.status == 422 && sold_out(answer) => {
                    // The limited dish sold out between the menu and the checkout: the kitchen
                    // said so and wrote nothing. Start the cart over next time.
                    self.empty_cart().await?;
                    return Err(GaveUp);
                }
                Ok(answer) => {
                    let what = if answers.len() > 1 {
                        "one of two concurrent checkouts with the same Idempotency-Key"
                    } else {
                        "checkout"
                    };
                    return self.unexpected(what, answer);
                }
            }
        }
        let Some(answer) = placed else {
            return Err(GaveUp);
        };
        let json = answer.json();
        let order = Placed {
            id: answer.text("id"),
            total: json["total"].as_i64().unwrap_or_default(),
            currency: answer.text("currency"),
            updated_at: answer.text("updated_at"),
        };
        self.shared.ledger.order(
            &order.id,
            OrderFacts {
                user_id: self.user_id(),
                total: order.total,
                currency: order.currency.clone(),
                cancelled: false,
                staff_status: None,
                maybe_status: None,
            },
        );
        if rand::random_bool(0.2) {
            // The same key again later: the first answer, and nothing new.
            if let Ok(again) = self.place_with_key(&key, &body).await {
                let replayed = again.header("idempotent-replayed") == Some("true");
                if again.status != 201 || again.text("id") != order.id || !replayed {
                    self.violation(
                        "idempotent_replay_differs",
                        format!(
                            "key {key}: first order {}, replay {} (replayed header {replayed})",
                            order.id,
                            again.describe()
                        ),
                    );
                }
            }
        }
        if rand::random_bool(0.3) {
            self.expect_order_status(&order, "pending_payment").await;
        }
        Ok(order)
    }

    /// Reads the order and reports it if its status is not `expected` (a 5xx is let go).
    async fn expect_order_status(&mut self, order: &Placed, expected: &str) {
        let path = format!("/orders/{}", order.id);
        let Ok(answer) = self
            .call("GET /orders/{id}", Method::GET, &path, &[], None)
            .await
        else {
            return;
        };
        if answer.status != 200 || answer.text("status") != expected {
            self.violation(
                "order_in_wrong_status",
                format!(
                    "order {} should be {expected}: {}",
                    order.id,
                    answer.describe()
                ),
            );
        }
    }

    // --- paying ---------------------------------------------------------------------------------

    /// `POST /orders/{id}/payments` until a 201. After each 502/503 (Paystack down or slow) the
    /// order must read exactly as it was.
    pub async fn start_payment(&mut self, order: &Placed, with_key: bool) -> Step<Started> {
        let key = format!("pay-{}-{}", order.id, rand::random::<u32>());
        let headers: Vec<(&str, &str)> = if with_key {
            vec![("idempotency-key", key.as_str())]
        } else {
            Vec::new()
        };
        let path = format!("/orders/{}/payments", order.id);
        let deadline = Instant::now() + PATIENCE;
        let answer = loop {
            let answer = self
                .http()
                .api(
                    crate::verdict::START_PAYMENT,
                    Method::POST,
                    &path,
                    self.token(),
                    &headers,
                    Body::Empty,
                )
                .await;
            if !answer.failed() {
                break answer;
            }
            if matches!(answer.status, 502 | 503) {
                self.expect_unchanged(order).await;
            }
            if Instant::now() >= deadline || self.shared.stopping() {
                self.last_failure = format!("payment start still failing: {}", answer.describe());
                return Err(GaveUp);
            }
            back_off(&answer).await;
        };
        if answer.status != 201 {
            return self.unexpected("payment start", &answer);
        }
        let json = answer.json();
        let started = Started {
            reference: answer.text("reference"),
            amount: json["amount"].as_i64().unwrap_or_default(),
            currency: answer.text("currency"),
        };
        if started.amount != order.total || started.currency != order.currency {
            self.violation(
                "payment_amount_differs_from_total",
                format!(
                    "payment {} for {} {}, order {} totals {} {}",
                    started.reference,
                    started.amount,
                    started.currency,
                    order.id,
                    order.total,
                    order.currency
                ),
            );
        }
        if with_key && rand::random_bool(0.2) {
            let again = self
                .http()
                .api(
                    crate::verdict::START_PAYMENT,
                    Method::POST,
                    &path,
                    self.token(),
                    &headers,
                    Body::Empty,
                )
                .await;
            // A fault may cut in; only a non-failure is judged.
            if !again.failed()
                && (again.status != 201 || again.text("reference") != started.reference)
            {
                self.violation(
                    "idempotent_replay_differs",
                    format!(
                        "payment key {key}: first {}, replay {}",
                        started.reference,
                        again.describe()
                    ),
                );
            }
        }
        Ok(started)
    }

    /// After a payment start failed: the order reads as it did when it was placed.
    async fn expect_unchanged(&mut self, order: &Placed) {
        let answer = self
            .http()
            .api(
                "GET /orders/{id}",
                Method::GET,
                &format!("/orders/{}", order.id),
                self.token(),
                &[],
                Body::Empty,
            )
            .await;
        if answer.status != 200 {
            return;
        }
        if answer.text("status") != "pending_payment"
            || answer.text("updated_at") != order.updated_at
        {
            self.violation(
                "order_changed_by_failed_payment_start",
                format!(
                    "order {} (updated_at {}): {}",
                    order.id,
                    order.updated_at,
                    answer.describe()
                ),
            );
        }
    }

    fn details<'a>(&'a self, order: &'a Placed, started: &'a Started) -> ChargeDetails<'a> {
        ChargeDetails {
            reference: &started.reference,
            amount: started.amount,
            currency: &started.currency,
            email: self.user.as_ref().map_or("", |u| u.email.as_str()),
            order_id: &order.id,
            user_id: self.user.as_ref().map_or("", |u| u.id.as_str()),
        }
    }

    fn sign(&self, order: &Placed, started: &Started) -> SignedEvent {
        let id = self.shared.next_charge_id.fetch_add(1, Ordering::Relaxed);
        webhook::charge_success(&self.shared.secret_key, &self.details(order, started), id)
    }

    /// Pays on the simulator (which sends its signed webhook); the caller holds the checkout lock.
    /// `Ok(true)` when the webhook was answered 200.
    async fn pay_on_simulator(&mut self, order: &Placed, started: &Started) -> Step<bool> {
        let path = format!("/_sim/transactions/{}/succeed", started.reference);
        let answer = self
            .http()
            .simulator("POST /_sim/transactions/{ref}/succeed", Method::POST, &path)
            .await;
        match answer.status {
            200 => {}
            // The simulator is down (no money moved), or was restarted and forgot the transaction.
            0 | 404 => {
                self.last_failure = format!("simulator: {}", answer.describe());
                return Err(GaveUp);
            }
            _ => return self.unexpected("simulator pay", &answer),
        }
        self.shared.ledger.charge(
            &started.reference,
            ChargeFacts {
                order_id: order.id.clone(),
                amount: started.amount,
                currency: started.currency.clone(),
                via: Via::Simulator,
                expect_note: None,
                confirmed: false,
            },
        );
        let delivered = self.note_delivery(&answer);
        Ok(delivered)
    }

    /// Records the simulator's webhook delivery; whether it got a 200.
    fn note_delivery(&self, answer: &Answer) -> bool {
        let status = answer.json()["webhook_status"].as_u64().unwrap_or(0) as u16;
        self.http().recorder().delivered(status);
        status == 200
    }

    /// Makes sure a charge is recorded: a 200 from its webhook says so; otherwise (and sometimes
    /// anyway) verify until the payment reads `success`.
    async fn confirm(&mut self, reference: &str, delivered: bool) -> Step<()> {
        if delivered && rand::random_bool(0.7) {
            self.shared.ledger.confirmed(reference);
            return Ok(());
        }
        self.verify_until_success(reference).await
    }

    async fn verify_until_success(&mut self, reference: &str) -> Step<()> {
        let path = format!("/payments/{reference}/verify");
        let deadline = Instant::now() + CONFIRM_PATIENCE;
        loop {
            let answer = self
                .http()
                .api(
                    "POST /payments/{reference}/verify",
                    Method::POST,
                    &path,
                    self.token(),
                    &[],
                    Body::Empty,
                )
                .await;
            match answer.status {
                200 if answer.text("status") == "success" => {
                    self.shared.ledger.confirmed(reference);
                    return Ok(());
                }
                401 => self.login().await?,
                // Not recorded yet (a webhook retry may be on its way), or a fault: try again.
                200 | 502 | 503 | 0 => {}
                _ => return self.unexpected("verify", &answer),
            }
            if Instant::now() >= deadline {
                self.violation(
                    "charge_not_recorded",
                    format!(
                        "payment {reference} paid on the simulator, verify still answers {}",
                        answer.describe()
                    ),
                );
                return Err(GaveUp);
            }
            back_off(&answer).await;
        }
    }

    /// Sends a signed event until the webhook answers 200. `Ok(true)` once it has.
    async fn send_signed(&mut self, event: &SignedEvent, patience: Duration) -> Step<bool> {
        let http = self.http().clone();
        let headers = [(SIGNATURE_HEADER, event.signature.as_str())];
        let answer = self
            .persist(patience, true, || {
                http.api(
                    "POST /webhooks/paystack",
                    Method::POST,
                    "/webhooks/paystack",
                    None,
                    &headers,
                    Body::Raw(event.body.clone()),
                )
            })
            .await
            .map_err(|_| GaveUp)?;
        if answer.status != 200 {
            return self.unexpected("signed webhook", &answer);
        }
        Ok(true)
    }

    /// A signed `charge.success` for `started` that the simulator knows nothing of: money that
    /// moved, which must end recorded with `expect_note`.
    async fn late_charge(
        &mut self,
        order: &Placed,
        started: &Started,
        expect_note: &'static str,
    ) -> Step<()> {
        let event = self.sign(order, started);
        // Paystack holds the money (so a refund of it can be asked for); its webhook is lost, and
        // the event the load signs is what tells the API.
        let succeed = format!("/_sim/transactions/{}/succeed", started.reference);
        let marked = self
            .http()
            .simulator_json(
                "POST /_sim/transactions/{ref}/succeed",
                &succeed,
                json!({"webhook": false}),
            )
            .await;
        if marked.status != 200 {
            return self.unexpected("charge at the simulator", &marked);
        }
        self.shared.ledger.charge(
            &started.reference,
            ChargeFacts {
                order_id: order.id.clone(),
                amount: started.amount,
                currency: started.currency.clone(),
                via: Via::Signed(event.clone()),
                expect_note: Some(expect_note),
                confirmed: false,
            },
        );
        self.send_signed(&event, CONFIRM_PATIENCE).await?;
        self.shared.ledger.confirmed(&started.reference);
        Ok(())
    }

    /// Pays for the order the ordinary way; also the probe's purchase.
    pub async fn plain(&mut self, order: &Placed) -> Step<()> {
        let started = self.start_payment(order, rand::random_bool(0.7)).await?;
        {
            let shared = self.shared.clone();
            let _checkout = shared.checkout.read().await;
            let delivered = self.pay_on_simulator(order, &started).await?;
            self.confirm(&started.reference, delivered).await?;
            if rand::random_bool(0.3) {
                // Paystack delivering the same event twice.
                let path = format!("/_sim/transactions/{}/webhook", started.reference);
                let again = self
                    .http()
                    .simulator("POST /_sim/transactions/{ref}/webhook", Method::POST, &path)
                    .await;
                if again.status == 200 {
                    self.note_delivery(&again);
                }
            }
        }
        self.expect_order_status(order, "paid").await;
        Ok(())
    }

    async fn concurrent_duplicates(&mut self, order: &Placed) -> Step<()> {
        let started = self.start_payment(order, true).await?;
        let event = self.sign(order, &started);
        // Our signed copies can record the payment whatever the simulator does, so they are the
        // charge of record (and what a reconciliation sends again).
        self.shared.ledger.charge(
            &started.reference,
            ChargeFacts {
                order_id: order.id.clone(),
                amount: started.amount,
                currency: started.currency.clone(),
                via: Via::Signed(event.clone()),
                expect_note: None,
                confirmed: false,
            },
        );
        let shared = self.shared.clone();
        let _checkout = shared.checkout.read().await;
        let http = self.http().clone();
        let pay_path = format!("/_sim/transactions/{}/succeed", started.reference);
        let verify_path = format!("/payments/{}/verify", started.reference);
        let token = self.token().map(str::to_string);
        let headers = [(SIGNATURE_HEADER, event.signature.as_str())];
        let signed = || {
            http.api(
                "POST /webhooks/paystack",
                Method::POST,
                "/webhooks/paystack",
                None,
                &headers,
                Body::Raw(event.body.clone()),
            )
        };
        let (paid, a, b, c, verified) = tokio::join!(
            http.simulator(
                "POST /_sim/transactions/{ref}/succeed",
                Method::POST,
                &pay_path
            ),
            signed(),
            signed(),
            signed(),
            http.api(
                "POST /payments/{reference}/verify",
                Method::POST,
                &verify_path,
                token.as_deref(),
                &[],
                Body::Empty,
            ),
        );
        let mut recorded = paid.status == 200 && self.note_delivery(&paid);
        for answer in [&a, &b, &c] {
            match answer.status {
                200 => recorded = true,
                status if status == 0 || status >= 500 => {}
                _ => return self.unexpected("concurrent signed webhook", answer),
            }
        }
        if !verified.failed() && verified.status != 200 {
            return self.unexpected("verify during concurrent webhooks", &verified);
        }
        if !recorded {
            self.send_signed(&event, CONFIRM_PATIENCE).await?;
        }
        self.shared.ledger.confirmed(&started.reference);
        drop(_checkout);
        self.expect_order_status(order, "paid").await;
        Ok(())
    }

    async fn declined_then_paid(&mut self, order: &Placed) -> Step<()> {
        let started = self.start_payment(order, false).await?;
        let shared = self.shared.clone();
        let _checkout = shared.checkout.read().await;
        let path = format!("/_sim/transactions/{}/fail", started.reference);
        let declined = self
            .http()
            .simulator("POST /_sim/transactions/{ref}/fail", Method::POST, &path)
            .await;
        match declined.status {
            200 => {}
            0 | 404 => return Err(GaveUp),
            _ => return self.unexpected("simulator decline", &declined),
        }
        let verify_path = format!("/payments/{}/verify", started.reference);
        let verified = self
            .http()
            .api(
                "POST /payments/{reference}/verify",
                Method::POST,
                &verify_path,
                self.token(),
                &[],
                Body::Empty,
            )
            .await;
        if verified.status == 200 && verified.text("status") != "failed" {
            self.violation(
                "decline_not_recorded",
                format!(
                    "payment {} declined: {}",
                    started.reference,
                    verified.describe()
                ),
            );
        } else if !verified.failed() && verified.status != 200 {
            return self.unexpected("verify of a declined payment", &verified);
        }
        // The customer tries the card again on the same checkout.
        let delivered = self.pay_on_simulator(order, &started).await?;
        self.confirm(&started.reference, delivered).await?;
        drop(_checkout);
        self.expect_order_status(order, "paid").await;
        Ok(())
    }

    async fn late_earlier_attempt(&mut self, order: &Placed) -> Step<()> {
        let first = self.start_payment(order, false).await?;
        let second = self.start_payment(order, false).await?;
        {
            let shared = self.shared.clone();
            let _checkout = shared.checkout.read().await;
            let delivered = self.pay_on_simulator(order, &second).await?;
            // The order must be paid by the second attempt before the first one's money arrives.
            self.verify_or_trust(&second.reference, delivered).await?;
        }
        self.late_charge(order, &first, "order_already_paid")
            .await?;
        self.expect_order_status(order, "paid").await;
        Ok(())
    }

    /// Like [`Customer::confirm`], but always certain before returning.
    async fn verify_or_trust(&mut self, reference: &str, delivered: bool) -> Step<()> {
        if delivered {
            self.shared.ledger.confirmed(reference);
            Ok(())
        } else {
            self.verify_until_success(reference).await
        }
    }

    async fn paid_after_cancel(&mut self, order: &Placed) -> Step<()> {
        let started = self.start_payment(order, false).await?;
        let path = format!("/orders/{}", order.id);
        let http = self.http().clone();
        let token = self.access_token();
        let change = || {
            http.api(
                "DELETE /orders/{id}",
                Method::DELETE,
                &path,
                Some(&token),
                &[],
                Body::Empty,
            )
        };
        let read = || {
            http.api(
                "GET /orders/{id}",
                Method::GET,
                &path,
                Some(&token),
                &[],
                Body::Empty,
            )
        };
        match self.change_status(change, read, 204, "cancelled").await {
            Changed::Yes => self.shared.ledger.cancelled(&order.id),
            Changed::Unknown => {
                self.shared.ledger.status_unknown(&order.id, "cancelled");
                return Err(GaveUp);
            }
            Changed::Refused(answer) => return self.unexpected("cancel", &answer),
        }
        self.late_charge(order, &started, "order_cancelled").await?;
        self.expect_order_status(order, "cancelled").await;
        Ok(())
    }

    /// Changes an order's status with `change` until it answers `success`. A 5xx does not say
    /// whether the change was made (a write can commit after the SDK gave up waiting for it), so
    /// before trying again the order is read with `read`: if it already has `target`, the change
    /// was made. A 409 after such a 5xx is read the same way.
    async fn change_status<C, CF, R, RF>(
        &mut self,
        mut change: C,
        mut read: R,
        success: u16,
        target: &str,
    ) -> Changed
    where
        C: FnMut() -> CF,
        CF: Future<Output = Answer>,
        R: FnMut() -> RF,
        RF: Future<Output = Answer>,
    {
        let deadline = Instant::now() + PATIENCE;
        let mut unsure = false;
        loop {
            let answer = change().await;
            if answer.status == success {
                return Changed::Yes;
            }
            let maybe_made = answer.failed() || (unsure && answer.status == 409);
            if !maybe_made {
                return Changed::Refused(answer);
            }
            unsure = true;
            loop {
                if Instant::now() >= deadline {
                    return Changed::Unknown;
                }
                back_off(&answer).await;
                let now = read().await;
                if now.status == 200 {
                    if now.text("status") == target {
                        return Changed::Yes;
                    }
                    break;
                }
            }
        }
    }

    async fn replay_after_moved_on(&mut self, order: &Placed) -> Step<()> {
        let started = self.start_payment(order, true).await?;
        let shared = self.shared.clone();
        let _checkout = shared.checkout.read().await;
        let delivered = self.pay_on_simulator(order, &started).await?;
        self.verify_or_trust(&started.reference, delivered).await?;
        self.staff_move(order, json!({"status": "preparing"}))
            .await?;
        // The same webhook again, byte for byte, and a second signed copy with other bytes.
        let resend = format!("/_sim/transactions/{}/webhook", started.reference);
        let again = self
            .http()
            .simulator(
                "POST /_sim/transactions/{ref}/webhook",
                Method::POST,
                &resend,
            )
            .await;
        if again.status == 200 {
            self.note_delivery(&again);
        }
        let event = self.sign(order, &started);
        self.send_signed(&event, PATIENCE).await?;
        drop(_checkout);
        self.expect_order_status(order, "preparing").await;
        Ok(())
    }
}

impl Customer {
    /// Pays `order` on the simulator and waits until the API says it is paid.
    async fn pay_for(&mut self, order: &Placed) -> Step<Started> {
        let started = self.start_payment(order, true).await?;
        let shared = self.shared.clone();
        let _checkout = shared.checkout.read().await;
        let delivered = self.pay_on_simulator(order, &started).await?;
        self.verify_or_trust(&started.reference, delivered).await?;
        Ok(started)
    }

    async fn kitchen_refund(&mut self, order: &Placed) -> Step<()> {
        self.pay_for(order).await?;
        let path = format!("/admin/orders/{}/refunds", order.id);
        let key = format!("load-refund-{}", ulid::Ulid::new());
        let half = json!({"amount": order.total / 2, "reason": "Load: part of the order was not delivered"});
        let ask = |body: Value, key: Option<String>| {
            let shared = self.shared.clone();
            let path = path.clone();
            async move {
                let headers: Vec<(&str, &str)> = match &key {
                    Some(key) => vec![("idempotency-key", key.as_str())],
                    None => Vec::new(),
                };
                shared
                    .admin_with(
                        "POST /admin/orders/{id}/refunds",
                        Method::POST,
                        &path,
                        &headers,
                        Some(body),
                    )
                    .await
            }
        };
        let (first, second) = tokio::join!(
            ask(half.clone(), Some(key.clone())),
            ask(half.clone(), Some(key.clone()))
        );
        let created: Vec<&Answer> = [&first, &second]
            .into_iter()
            .filter(|answer| answer.status == 201)
            .collect();
        if created.len() == 2 && created[0].text("id") != created[1].text("id") {
            self.violation(
                "refund_key_not_honoured",
                format!(
                    "one Idempotency-Key made refunds {} and {} of order {}",
                    created[0].text("id"),
                    created[1].text("id"),
                    order.id
                ),
            );
        }
        for answer in [&first, &second] {
            if answer.status != 201 && !answer.failed() {
                return self.unexpected("staff refund", answer);
            }
        }
        let Some(refund) = created.first() else {
            // Paystack or the table was down: nothing was refunded, which the table's invariants
            // check.
            return Err(GaveUp);
        };
        // All of it is more than is left.
        let all = json!({"amount": order.total, "reason": "Load: asking for too much"});
        let too_much = ask(all, None).await;
        if too_much.status == 201 {
            self.violation(
                "refunded_more_than_left",
                format!("order {} refunded in full after half of it was", order.id),
            );
        } else if too_much.status != 422 && !too_much.failed() {
            return self.unexpected("refund of more than is left", &too_much);
        }
        // Paystack processes it; its webhook moves ours along.
        let paystack_id = refund.json()["paystack_id"].as_u64();
        if let Some(id) = paystack_id {
            let processed = format!("/_sim/refunds/{id}/processed");
            let answer = self
                .http()
                .simulator(
                    "POST /_sim/refunds/{id}/processed",
                    Method::POST,
                    &processed,
                )
                .await;
            if answer.status != 200 && !answer.failed() {
                return self.unexpected("refund processed at the simulator", &answer);
            }
        }
        Ok(())
    }

    async fn kitchen_cancels_paid(&mut self, order: &Placed) -> Step<()> {
        self.pay_for(order).await?;
        let cancel = json!({"status": "cancelled", "reason": "Load: the kitchen ran out"});
        self.staff_move(order, cancel).await
    }

    /// Staff move `order` as `change` says (`{"status", …}`); after a 5xx the order is read to
    /// learn whether the move was made. The ledger learns the outcome.
    async fn staff_move(&mut self, order: &Placed, change: Value) -> Step<()> {
        let target = change["status"].as_str().unwrap_or_default().to_string();
        let path = format!("/admin/orders/{}/status", order.id);
        let read_path = format!("/admin/orders/{}", order.id);
        let admin = self.shared.clone();
        let send = || {
            admin.admin(
                "PATCH /admin/orders/{id}/status",
                Method::PATCH,
                &path,
                Some(change.clone()),
            )
        };
        let read = || admin.admin("GET /admin/orders/{id}", Method::GET, &read_path, None);
        match self.change_status(send, read, 200, &target).await {
            Changed::Yes => self.shared.ledger.staff_moved(&order.id, &target),
            Changed::Unknown => {
                self.shared.ledger.status_unknown(&order.id, &target);
                return Err(GaveUp);
            }
            Changed::Refused(answer) => {
                return self.unexpected(&format!("staff move to {target}"), &answer);
            }
        }
        Ok(())
    }
}

/// After the customers stopped: every charge not yet seen recorded is pushed until it is (verify
/// for the simulator's, the signed event again for ours). Returns how many needed it.
pub async fn reconcile(shared: &Arc<Shared>) -> usize {
    let pending = shared.ledger.unconfirmed();
    let count = pending.len();
    let mut clerk = Customer::new(shared.clone(), 0);
    for (reference, charge) in pending {
        match &charge.via {
            Via::Signed(event) => {
                if clerk.send_signed(event, CONFIRM_PATIENCE).await.is_ok() {
                    shared.ledger.confirmed(&reference);
                }
            }
            Via::Simulator => {
                // The owner's token is not kept; the simulator delivering its event again records
                // the charge just as well.
                let path = format!("/_sim/transactions/{reference}/webhook");
                let deadline = Instant::now() + CONFIRM_PATIENCE;
                loop {
                    let answer = shared
                        .http
                        .simulator("POST /_sim/transactions/{ref}/webhook", Method::POST, &path)
                        .await;
                    if answer.status == 200 && clerk.note_delivery(&answer) {
                        shared.ledger.confirmed(&reference);
                        break;
                    }
                    if answer.status == 404 || Instant::now() >= deadline {
                        break;
                    }
                    pause().await;
                }
            }
        }
    }
    count
}
