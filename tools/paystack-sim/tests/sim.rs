//! Black-box tests: the simulator is started in-process on a free port and driven over HTTP,
//! with a small webhook receiver of the test's own standing in for the Kitchen API.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use paystack_sim::{SimConfig, SimHandle, spawn};
use serde_json::{Value, json};
use sha2::Sha512;

const SECRET: &str = "sk_test_sim_suite";

// ---- harness ---------------------------------------------------------------------------------

struct Sim {
    handle: SimHandle,
    http: reqwest::Client,
}

async fn start_sim(webhook_url: &str) -> Sim {
    start_sim_with(SimConfig {
        webhook_url: webhook_url.to_owned(),
        ..test_config()
    })
    .await
}

fn test_config() -> SimConfig {
    SimConfig {
        port: 0,
        secret_key: SECRET.to_owned(),
        // Nothing listens on port 9 of this machine: deliveries fail fast.
        webhook_url: "http://127.0.0.1:9/unused".to_owned(),
        retry_ms: 50,
        retry_attempts: 5,
        webhook_timeout_ms: 2_000,
        ..SimConfig::default()
    }
}

async fn start_sim_with(config: SimConfig) -> Sim {
    let (addr, handle) = spawn(config).await;
    assert_eq!(handle.addr(), addr);
    Sim {
        handle,
        http: reqwest::Client::new(),
    }
}

impl Sim {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    async fn initialize(&self, body: Value) -> (StatusCode, Value) {
        self.api_post("/transaction/initialize", body).await
    }

    /// Initializes a valid transaction and returns its `data`.
    async fn initialized(&self, body: Value) -> Value {
        let (status, answer) = self.initialize(body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["data"].clone()
    }

    async fn verify(&self, reference: &str) -> (StatusCode, Value) {
        self.api_get(&format!("/transaction/verify/{reference}"))
            .await
    }

    async fn control(
        &self,
        reference: &str,
        action: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.sim_post(&format!("/_sim/transactions/{reference}/{action}"), body)
            .await
    }
}

impl Sim {
    /// Initializes `reference` (₦1,500.00, see [`order`]) and pays it.
    async fn paid(&self, reference: &str) -> Value {
        let data = self.initialized(order(reference)).await;
        let (status, body) = self.control(reference, "succeed", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        data
    }

    async fn refund(&self, body: Value) -> (StatusCode, Value) {
        self.api_post("/refund", body).await
    }

    /// A refund that must be accepted; returns its `data`.
    async fn refunded(&self, body: Value) -> Value {
        let (status, answer) = self.refund(body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["data"].clone()
    }

    async fn api_get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(SECRET)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// A call of Paystack's API, with the secret key.
    async fn api_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let request = self
            .http
            .post(self.url(path))
            .bearer_auth(SECRET)
            .json(&body);
        read(request.send().await.unwrap()).await
    }

    /// A call of the simulator's own control routes, which take no key.
    async fn sim_post(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.post(self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    async fn advance(&self, refund_id: &Value, step: &str) -> (StatusCode, Value) {
        self.sim_post(&format!("/_sim/refunds/{refund_id}/{step}"), None)
            .await
    }
}

impl Hit {
    fn event(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

impl Receiver {
    /// Waits for the `count`th hit and returns the events received, in order.
    async fn wait_for_events(&self, count: usize) -> Vec<Value> {
        let hits = self.wait_for_hits(count).await;
        assert!(hits.len() >= count, "{} webhooks, not {count}", hits.len());
        hits.iter().map(Hit::event).collect()
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

#[derive(Clone)]
struct Hit {
    headers: HeaderMap,
    body: Bytes,
}

/// Records every POST; answers with the scripted statuses in order, then 200.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
}

#[derive(Clone)]
struct ReceiverState {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Self {
        let state = ReceiverState {
            hits: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let hits = state.hits.clone();
        let app = Router::new()
            .route("/webhooks/paystack", post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, hits }
    }

    fn url(&self) -> String {
        format!("http://{}/webhooks/paystack", self.addr)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    async fn wait_for_hits(&self, count: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let hits = self.hits();
            if hits.len() >= count || Instant::now() > deadline {
                return hits;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state.hits.lock().unwrap().push(Hit { headers, body });
    let next = state.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(next).unwrap()
}

/// Computed here from the hmac crate directly, not with the simulator's own `sign`.
fn expected_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn order(reference: &str) -> Value {
    json!({
        "email": "ada@example.com",
        "amount": 150000,
        "reference": reference,
        "currency": "NGN",
        "callback_url": "http://127.0.0.1:5173/orders/o1/paid",
        "metadata": { "order_id": "o1", "user_id": "u1" },
    })
}

// ---- initialize ------------------------------------------------------------------------------

#[tokio::test]
async fn initialize_answers_an_authorization_url_on_the_simulators_checkout() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let (status, body) = sim.initialize(order("ord-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], true);
    assert_eq!(body["message"], "Authorization URL created");
    let access_code = body["data"]["access_code"].as_str().unwrap();
    assert!(!access_code.is_empty());
    assert_eq!(body["data"]["reference"], "ord-1");
    assert_eq!(
        body["data"]["authorization_url"],
        sim.url(&format!("/checkout/{access_code}"))
    );
}

#[tokio::test]
async fn initialize_uses_the_public_url_when_one_is_configured() {
    let sim = start_sim_with(SimConfig {
        public_url: Some("http://pay.localhost:8080/".to_owned()),
        ..test_config()
    })
    .await;
    let data = sim.initialized(order("ord-pub")).await;
    let url = data["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with("http://pay.localhost:8080/checkout/"),
        "{url}"
    );
}

#[tokio::test]
async fn initialize_requires_the_secret_key() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let url = sim.url("/transaction/initialize");

    let missing = sim.http.post(&url).json(&order("k1")).send().await.unwrap();
    assert_eq!(
        read(missing).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"status": false, "message": "Invalid key"})
        )
    );

    let wrong = sim
        .http
        .post(&url)
        .bearer_auth("sk_test_wrong")
        .json(&order("k2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        read(wrong).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"status": false, "message": "Invalid key"})
        )
    );

    let malformed = sim
        .http
        .post(&url)
        .header("authorization", SECRET)
        .json(&order("k3"))
        .send()
        .await
        .unwrap();
    let (status, body) = read(malformed).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "Format is Authorization Bearer [secret key]"
    );

    assert!(sim.handle.state().transactions().is_empty());
}

#[tokio::test]
async fn initialize_rejects_a_missing_or_malformed_email() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;

    let (status, body) = sim.initialize(json!({ "amount": 5000 })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "status": false,
            "message": "Email Address is required",
            "meta": { "nextStep": "Provide all required params" },
            "type": "validation_error",
            "code": "missing_params",
        })
    );

    let (status, body) = sim.initialize(json!({ "email": "", "amount": 5000 })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Email is not allowed to be empty");

    let (status, body) = sim
        .initialize(json!({ "email": "not-an-email", "amount": 5000 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], false);
    assert_eq!(body["type"], "validation_error");
}

#[tokio::test]
async fn initialize_rejects_a_missing_zero_negative_or_non_numeric_amount() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let cases = [
        (json!(null), "Amount is required"),
        (json!(0), "You must specify a valid amount"),
        (json!(-100), "Amount must be an integer"),
        (json!("ten naira"), "Amount must be an integer"),
    ];
    for (amount, message) in cases {
        let (status, body) = sim
            .initialize(json!({ "email": "ada@example.com", "amount": amount }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(body["message"], message, "{amount}");
        assert_eq!(body["status"], false);
    }
}

#[tokio::test]
async fn initialize_rejects_a_fractional_amount() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    for amount in [json!(1500.5), json!("1500.50")] {
        let (status, body) = sim
            .initialize(json!({ "email": "ada@example.com", "amount": amount }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(body["message"], "Amount must be an integer");
    }
}

#[tokio::test]
async fn initialize_accepts_a_digit_string_amount_defaults_to_ngn_and_generates_a_reference() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let data = sim
        .initialized(json!({ "email": "ada@example.com", "amount": "20000" }))
        .await;
    let reference = data["reference"].as_str().unwrap();
    assert!(
        reference.len() >= 8 && reference.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{reference}"
    );

    let (_, verified) = sim.verify(reference).await;
    assert_eq!(verified["data"]["amount"], 20000);
    assert_eq!(verified["data"]["currency"], "NGN");
}

#[tokio::test]
async fn initialize_rejects_a_duplicate_reference() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-dup")).await;
    let (status, body) = sim.initialize(order("ord-dup")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "status": false,
            "message": "Duplicate Transaction Reference",
            "meta": { "nextStep": "Try and create the Transaction or Charge with a new reference" },
            "type": "validation_error",
            "code": "duplicate_reference",
        })
    );
    assert_eq!(sim.handle.state().transactions().len(), 1);
}

#[tokio::test]
async fn initialize_rejects_bad_reference_characters_and_unsupported_currencies() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let (status, body) = sim
        .initialize(json!({ "email": "ada@example.com", "amount": 5000, "reference": "ord_1/2" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Invalid character in transaction reference"
    );

    let (status, body) = sim
        .initialize(json!({ "email": "ada@example.com", "amount": 5000, "currency": "EUR" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Currency not supported by merchant");

    for currency in ["NGN", "GHS", "ZAR", "USD", "KES"] {
        sim.initialized(
            json!({ "email": "ada@example.com", "amount": 5000, "currency": currency }),
        )
        .await;
    }
}

#[tokio::test]
async fn initialize_accepts_a_form_body_with_stringified_metadata() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let response = sim
        .http
        .post(sim.url("/transaction/initialize"))
        .bearer_auth(SECRET)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=ada%40example.com&amount=7500&reference=ord-form&metadata=%7B%22order_id%22%3A%22o9%22%7D")
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, verified) = sim.verify("ord-form").await;
    assert_eq!(verified["data"]["metadata"], json!({ "order_id": "o9" }));
    assert_eq!(verified["data"]["amount"], 7500);
}

// ---- verify ----------------------------------------------------------------------------------

#[tokio::test]
async fn verify_of_an_unknown_reference_is_404() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let (status, body) = sim.verify("nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], false);
    assert_eq!(body["message"], "Transaction reference not found");
}

#[tokio::test]
async fn verify_requires_the_secret_key() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-v")).await;
    let response = sim
        .http
        .get(sim.url("/transaction/verify/ord-v"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(response).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn verify_reports_abandoned_before_payment() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(json!({ "email": "ada@example.com", "amount": 150000, "reference": "ord-ab" }))
        .await;
    let (status, body) = sim.verify("ord-ab").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], true);
    assert_eq!(body["message"], "Verification successful");
    let data = &body["data"];
    assert_eq!(data["status"], "abandoned");
    assert_eq!(data["reference"], "ord-ab");
    assert_eq!(data["amount"], 150000);
    assert_eq!(data["requested_amount"], 150000);
    assert_eq!(data["currency"], "NGN");
    assert_eq!(data["domain"], "test");
    assert_eq!(data["paid_at"], Value::Null);
    assert_eq!(
        data["gateway_response"],
        "The transaction was not completed"
    );
    // Paystack returns "" for absent metadata.
    assert_eq!(data["metadata"], "");
    assert_eq!(data["customer"]["email"], "ada@example.com");
    // Ids beyond 32 bits, as Paystack warns.
    assert!(data["id"].as_u64().unwrap() > u64::from(u32::MAX));
}

#[tokio::test]
async fn verify_reports_success_after_payment() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-ok")).await;
    let (status, _) = sim.control("ord-ok", "succeed", None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = sim.verify("ord-ok").await;
    assert_eq!(status, StatusCode::OK);
    let data = &body["data"];
    assert_eq!(data["status"], "success");
    assert_eq!(data["channel"], "card");
    assert_eq!(data["gateway_response"], "Successful");
    assert!(data["paid_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data["paid_at"], data["paidAt"]);
    assert_eq!(
        data["metadata"],
        json!({ "order_id": "o1", "user_id": "u1" })
    );
    assert_eq!(data["authorization"]["reusable"], true);
}

#[tokio::test]
async fn verify_reports_failed_after_a_decline() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-no")).await;
    let (status, body) = sim.control("ord-no", "fail", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "status": "failed" }))
    );

    let (status, body) = sim.verify("ord-no").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], true);
    assert_eq!(body["data"]["status"], "failed");
    assert_eq!(body["data"]["gateway_response"], "Declined");
    assert_eq!(body["data"]["paid_at"], Value::Null);
}

// ---- checkout --------------------------------------------------------------------------------

#[tokio::test]
async fn checkout_page_shows_amount_email_reference_and_both_buttons() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let data = sim.initialized(order("ord-page")).await;
    let response = sim
        .http
        .get(data["authorization_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("₦1,500.00"), "{html}");
    assert!(html.contains("ada@example.com"));
    assert!(html.contains("ord-page"));
    assert!(html.contains(r#"id="pay""#) && html.contains(">Pay "));
    assert!(html.contains(r#"id="fail""#) && html.contains(">Fail<"));
    assert!(html.contains("/_sim/transactions/"));
    assert!(
        html.contains(
            "http://127.0.0.1:5173/orders/o1/paid?trxref=ord-page&amp;reference=ord-page"
        )
    );
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "no external assets"
    );
}

#[tokio::test]
async fn checkout_of_an_unknown_access_code_is_404() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let response = sim
        .http
        .get(sim.url("/checkout/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

// ---- webhooks --------------------------------------------------------------------------------

#[tokio::test]
async fn succeed_delivers_a_correctly_signed_charge_success_webhook() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-hook")).await;

    let (status, body) = sim.control("ord-hook", "succeed", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["webhook_status"], 200);

    let hits = receiver.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.headers["content-type"], "application/json");
    let signature = hit.headers["x-paystack-signature"].to_str().unwrap();
    assert_eq!(signature, expected_signature(&hit.body));
    assert!(
        signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(signature.len(), 128);

    let event: Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(event["event"], "charge.success");
    let data = &event["data"];
    assert_eq!(data["reference"], "ord-hook");
    assert_eq!(data["status"], "success");
    assert_eq!(data["amount"], 150000);
    assert_eq!(data["currency"], "NGN");
    assert_eq!(data["channel"], "card");
    assert_eq!(data["gateway_response"], "Successful");
    assert_eq!(data["customer"]["email"], "ada@example.com");
    assert_eq!(data["metadata"]["order_id"], "o1");
    assert!(data["id"].as_u64().is_some());
    assert!(data["paid_at"].is_string());

    // Verify and the webhook describe the same transaction.
    let (_, verified) = sim.verify("ord-hook").await;
    assert_eq!(verified["data"]["id"], data["id"]);
    assert_eq!(verified["data"]["paid_at"], data["paid_at"]);

    // Nothing more arrives: a 200 ends the delivery.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.hits().len(), 1);
}

#[tokio::test]
async fn a_webhook_answered_with_500_is_retried_until_it_gets_200() {
    let receiver = Receiver::start(&[500, 503]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-retry")).await;

    let (status, body) = sim.control("ord-retry", "succeed", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["webhook_status"], 500,
        "the first attempt's status is reported"
    );

    let hits = receiver.wait_for_hits(3).await;
    assert_eq!(hits.len(), 3);
    for hit in &hits {
        assert_eq!(hit.body, hits[0].body, "retries carry the same bytes");
        assert_eq!(
            hit.headers["x-paystack-signature"].to_str().unwrap(),
            expected_signature(&hit.body)
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 3, "no retry after the 200");

    let deliveries = sim
        .handle
        .state()
        .transaction("ord-retry")
        .unwrap()
        .deliveries;
    let statuses: Vec<_> = deliveries.iter().map(|d| d.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
}

#[tokio::test]
async fn retries_stop_after_the_configured_number_of_attempts() {
    let receiver = Receiver::start(&[500; 10]).await;
    let sim = start_sim_with(SimConfig {
        webhook_url: receiver.url(),
        retry_attempts: 2,
        ..test_config()
    })
    .await;
    sim.initialized(order("ord-give-up")).await;
    sim.control("ord-give-up", "succeed", None).await;
    receiver.wait_for_hits(3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 3, "one delivery and two retries");
}

#[tokio::test]
async fn an_unreachable_webhook_reports_null() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-down")).await;
    let (status, body) = sim.control("ord-down", "succeed", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["webhook_status"], Value::Null);
    assert_eq!(sim.verify("ord-down").await.1["data"]["status"], "success");
}

#[tokio::test]
async fn succeed_can_pay_a_different_amount_or_currency() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-mismatch")).await;

    let (status, _) = sim
        .control(
            "ord-mismatch",
            "succeed",
            Some(json!({ "amount": 100, "currency": "USD" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let event: Value = serde_json::from_slice(&receiver.hits()[0].body).unwrap();
    assert_eq!(event["data"]["amount"], 100);
    assert_eq!(event["data"]["currency"], "USD");
    assert_eq!(event["data"]["requested_amount"], 150000);
    let (_, verified) = sim.verify("ord-mismatch").await;
    assert_eq!(verified["data"]["amount"], 100);
    assert_eq!(verified["data"]["currency"], "USD");
}

#[tokio::test]
async fn succeeding_twice_is_a_conflict_and_an_unknown_reference_is_404() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-twice")).await;
    assert_eq!(
        sim.control("ord-twice", "succeed", None).await.0,
        StatusCode::OK
    );

    let (status, body) = sim.control("ord-twice", "succeed", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());
    assert_eq!(
        sim.control("ord-twice", "fail", None).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(receiver.hits().len(), 1);

    assert_eq!(
        sim.control("ghost", "succeed", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.control("ghost", "fail", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.control("ghost", "webhook", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_declined_payment_can_still_succeed_on_a_retry() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-second-try")).await;
    sim.control("ord-second-try", "fail", None).await;
    let (status, body) = sim.control("ord-second-try", "succeed", None).await;
    assert_eq!(
        (status, body["webhook_status"].clone()),
        (StatusCode::OK, json!(200))
    );
    assert_eq!(
        sim.verify("ord-second-try").await.1["data"]["status"],
        "success"
    );
}

#[tokio::test]
async fn the_last_webhook_can_be_sent_again_byte_for_byte() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-again")).await;

    let (status, _) = sim.control("ord-again", "webhook", None).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing sent yet");

    sim.control("ord-again", "succeed", None).await;
    let (status, body) = sim.control("ord-again", "webhook", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "webhook_status": 200 }))
    );

    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].body, hits[1].body);
    assert_eq!(
        hits[0].headers["x-paystack-signature"],
        hits[1].headers["x-paystack-signature"]
    );
}

#[tokio::test]
async fn succeed_without_its_webhook_pays_silently_and_the_event_can_come_late() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-lost")).await;

    let (status, body) = sim
        .control("ord-lost", "succeed", Some(json!({ "webhook": false })))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "status": "success", "webhook_status": null })
        )
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.hits().is_empty(), "the webhook is lost");
    assert_eq!(sim.verify("ord-lost").await.1["data"]["status"], "success");
    let view = sim.handle.state().transaction("ord-lost").unwrap();
    assert!(!view.webhook_sent && view.deliveries.is_empty());

    // Paying twice is still refused, and the lost event can be delivered late.
    assert_eq!(
        sim.control("ord-lost", "succeed", None).await.0,
        StatusCode::CONFLICT
    );
    let (status, body) = sim.control("ord-lost", "webhook", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "webhook_status": 200 }))
    );
    let event: Value = serde_json::from_slice(&receiver.hits()[0].body).unwrap();
    assert_eq!(event["event"], "charge.success");
    assert_eq!(event["data"]["reference"], "ord-lost");

    // An explicit `"webhook": true` is the default behaviour.
    sim.initialized(order("ord-kept")).await;
    let (status, body) = sim
        .control("ord-kept", "succeed", Some(json!({ "webhook": true })))
        .await;
    assert_eq!(
        (status, body["webhook_status"].clone()),
        (StatusCode::OK, json!(200))
    );
    assert_eq!(receiver.hits().len(), 2);
}

#[tokio::test]
async fn fail_sends_no_webhook() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-quiet")).await;
    let (status, body) = sim.control("ord-quiet", "fail", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "status": "failed" }))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.hits().is_empty());
    assert!(
        sim.handle
            .state()
            .transaction("ord-quiet")
            .unwrap()
            .deliveries
            .is_empty()
    );
}

// ---- simulator controls ----------------------------------------------------------------------

#[tokio::test]
async fn delay_set_at_runtime_slows_api_calls_but_not_the_controls() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-slow")).await;

    let response = sim
        .http
        .post(sim.url("/_sim/config"))
        .json(&json!({ "delay_ms": 400 }))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["delay_ms"], 400);

    let started = Instant::now();
    assert_eq!(sim.verify("ord-slow").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));

    // A client with a shorter timeout gives up, which is what the delay is for.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let timed_out = impatient
        .get(sim.url("/transaction/verify/ord-slow"))
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap_err();
    assert!(timed_out.is_timeout());

    let started = Instant::now();
    let response = sim.http.get(sim.url("/health")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn the_delay_can_be_set_at_start() {
    let sim = start_sim_with(SimConfig {
        delay_ms: 250,
        ..test_config()
    })
    .await;
    let started = Instant::now();
    sim.initialized(order("ord-start-slow")).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn the_webhook_url_can_be_changed_at_runtime() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let response = sim
        .http
        .post(sim.url("/_sim/config"))
        .json(&json!({ "webhook_url": receiver.url() }))
        .send()
        .await
        .unwrap();
    assert_eq!(read(response).await.1["webhook_url"], json!(receiver.url()));
    sim.initialized(order("ord-moved")).await;
    assert_eq!(
        sim.control("ord-moved", "succeed", None).await.1["webhook_status"],
        200
    );
    assert_eq!(receiver.hits().len(), 1);
}

#[tokio::test]
async fn transactions_are_listed_for_debugging() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.initialized(order("ord-a")).await;
    sim.initialized(order("ord-b")).await;
    sim.control("ord-b", "fail", None).await;
    let response = sim
        .http
        .get(sim.url("/_sim/transactions"))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    let listed = body.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["reference"], "ord-a");
    assert_eq!(listed[0]["status"], "abandoned");
    assert_eq!(listed[1]["reference"], "ord-b");
    assert_eq!(listed[1]["status"], "failed");
}

#[tokio::test]
async fn health_answers_200_and_the_server_shuts_down_cleanly() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    let response = sim.http.get(sim.url("/health")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let url = sim.url("/health");
    sim.handle.shutdown().await.unwrap();
    assert!(reqwest::Client::new().get(url).send().await.is_err());
}

#[tokio::test]
async fn a_test_can_pay_through_the_state_without_http() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.initialized(order("ord-direct")).await;
    let status = sim
        .handle
        .state()
        .succeed("ord-direct", paystack_sim::SucceedOverrides::default())
        .await
        .unwrap();
    assert_eq!(status, Some(200));
    assert_eq!(
        sim.handle.state().transaction("ord-direct").unwrap().status,
        paystack_sim::TransactionStatus::Success
    );
}

// ---- refunds ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_refund_is_queued_and_its_pending_webhook_follows_the_answer() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.paid("ord-rf").await;
    receiver.wait_for_events(1).await;

    let (status, body) = sim.refund(json!({ "transaction": "ord-rf" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The answer is out before the event: nothing has arrived yet.
    assert_eq!(
        receiver.hits().len(),
        1,
        "refund.pending came before the answer"
    );
    assert_eq!(body["status"], true);
    assert_eq!(body["message"], "Refund has been queued for processing");
    let data = &body["data"];
    let (_, verified) = sim.verify("ord-rf").await;
    assert_eq!(data["transaction"]["id"], verified["data"]["id"]);
    assert_eq!(data["transaction"]["reference"], "ord-rf");
    assert_eq!(data["transaction"]["amount"], 150000);
    assert_eq!(data["transaction"]["paid_at"], verified["data"]["paid_at"]);
    assert_eq!(data["transaction"]["paidAt"], verified["data"]["paid_at"]);
    assert_eq!(data["transaction"]["channel"], "card");
    assert_eq!(
        data["transaction"]["authorization"],
        json!({ "exp_month": null, "exp_year": null, "account_name": null })
    );
    assert_eq!(
        data["transaction"]["subaccount"],
        json!({ "currency": null })
    );
    assert_eq!(data["status"], "pending");
    assert_eq!(data["amount"], 150000);
    assert_eq!(data["currency"], "NGN");
    assert_eq!(data["domain"], "test");
    assert_eq!(data["deducted_amount"], 0);
    assert_eq!(data["fully_deducted"], false);
    assert_eq!(data["channel"], Value::Null);
    assert_eq!(data["integration"], 412829);
    assert_eq!(data["customer_note"], "Refund for transaction ord-rf");
    assert!(data["refunded_by"].as_str().unwrap().contains('@'));
    let id = data["id"].as_u64().unwrap();
    assert!(id > u64::from(u32::MAX), "{id}");
    let created = data["createdAt"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "{created}");
    assert_eq!(data["updatedAt"], data["createdAt"]);
    let created =
        time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let expected = time::OffsetDateTime::parse(
        data["expected_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(expected - created, time::Duration::days(9));

    let hits = receiver.wait_for_hits(2).await;
    assert_eq!(hits.len(), 2);
    let hit = &hits[1];
    assert_eq!(
        hit.headers["x-paystack-signature"].to_str().unwrap(),
        expected_signature(&hit.body)
    );
    assert_eq!(
        hit.event(),
        json!({
            "event": "refund.pending",
            "data": {
                "status": "pending",
                "transaction_reference": "ord-rf",
                "refund_reference": null,
                "amount": "150000",
                "currency": "NGN",
                "processor": "instant-transfer",
                "customer": { "first_name": null, "last_name": null, "email": "ada@example.com" },
                "integration": 412829,
                "domain": "test",
            },
        })
    );
    let deliveries = sim.handle.state().transaction("ord-rf").unwrap().deliveries;
    let events: Vec<_> = deliveries.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(events, ["charge.success", "refund.pending"]);
}

#[tokio::test]
async fn partial_refunds_take_what_is_left_and_no_more() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    let paid = sim.paid("ord-part").await;
    let (_, verified) = sim.verify(paid["reference"].as_str().unwrap()).await;
    let transaction_id = verified["data"]["id"].clone();

    let first = sim
        .refunded(
            json!({ "transaction": "ord-part", "amount": 50000, "currency": "NGN",
                          "customer_note": "one dish was missing", "merchant_note": "sorry" }),
        )
        .await;
    assert_eq!(first["amount"], 50000);
    assert_eq!(first["customer_note"], "one dish was missing");
    assert_eq!(first["merchant_note"], "sorry");

    // By numeric id, as a number and as digits; the amount as a digit string.
    let second = sim
        .refunded(json!({ "transaction": transaction_id, "amount": "40000" }))
        .await;
    assert!(second["id"].as_u64() > first["id"].as_u64(), "ids increase");

    let (status, body) = sim
        .refund(json!({ "transaction": transaction_id.to_string(), "amount": 60001 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Refund amount cannot be greater than transaction amount"
    );
    assert_eq!(body["status"], false);
    assert_eq!(body["type"], "validation_error");

    // No amount: the rest.
    let rest = sim
        .refunded(json!({ "transaction": transaction_id.to_string() }))
        .await;
    assert_eq!(rest["amount"], 60000);

    let (status, body) = sim.refund(json!({ "transaction": "ord-part" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Transaction has been fully reversed");
    let (status, body) = sim
        .refund(json!({ "transaction": "ord-part", "amount": 1 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Transaction has been fully reversed");

    let view = sim.handle.state().transaction("ord-part").unwrap();
    assert_eq!(view.refundable, 0);
    let amounts: Vec<_> = view.refunds.iter().map(|r| r.amount).collect();
    assert_eq!(amounts, [50000, 40000, 60000]);
    // Refunding does not change the transaction until money actually goes back.
    assert_eq!(sim.verify("ord-part").await.1["data"]["status"], "success");
}

#[tokio::test]
async fn refunds_of_unknown_or_unpaid_transactions_are_refused() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;

    let (status, body) = sim.refund(json!({ "transaction": "ghost" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], false);
    assert_eq!(body["message"], "Transaction not found");
    assert_eq!(body["code"], "transaction_not_found");
    assert_eq!(
        sim.refund(json!({ "transaction": 123 })).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, body) = sim.refund(json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "missing_params");

    sim.initialized(order("ord-unpaid")).await;
    let (status, body) = sim.refund(json!({ "transaction": "ord-unpaid" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Transaction has not been paid");
    sim.control("ord-unpaid", "fail", None).await;
    let (status, body) = sim.refund(json!({ "transaction": "ord-unpaid" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Transaction has not been paid");
}

#[tokio::test]
async fn refunds_with_a_bad_amount_or_another_currency_are_refused() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.paid("ord-bad").await;
    for (amount, message) in [
        (json!(0), "You must specify a valid amount"),
        (json!("0"), "You must specify a valid amount"),
        (json!(-5), "Amount must be an integer"),
        (json!(10.5), "Amount must be an integer"),
        (json!("ten"), "Amount must be an integer"),
        (json!(true), "Amount must be an integer"),
    ] {
        let (status, body) = sim
            .refund(json!({ "transaction": "ord-bad", "amount": amount }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(body["message"], message, "{amount}");
        assert_eq!(body["type"], "validation_error");
    }
    let (status, body) = sim
        .refund(json!({ "transaction": "ord-bad", "currency": "USD" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], false);
    assert!(body["message"].as_str().unwrap().contains("NGN"), "{body}");
    assert!(
        sim.handle
            .state()
            .transaction("ord-bad")
            .unwrap()
            .refunds
            .is_empty()
    );
}

#[tokio::test]
async fn refunds_require_the_secret_key_and_accept_a_form() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.paid("ord-key").await;
    let url = sim.url("/refund");
    let body = json!({ "transaction": "ord-key" });

    let missing = sim.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(
        read(missing).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"status": false, "message": "Invalid key"})
        )
    );
    let wrong = sim
        .http
        .post(&url)
        .bearer_auth("sk_test_wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(read(wrong).await.0, StatusCode::UNAUTHORIZED);
    let malformed = sim
        .http
        .post(&url)
        .header("authorization", SECRET)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read(malformed).await.1["message"],
        "Format is Authorization Bearer [secret key]"
    );
    for path in ["/refund", "/refund/7000000001"] {
        let response = sim.http.get(sim.url(path)).send().await.unwrap();
        assert_eq!(read(response).await.0, StatusCode::UNAUTHORIZED, "{path}");
    }
    assert!(sim.handle.state().refunds().is_empty());

    let form = sim
        .http
        .post(&url)
        .bearer_auth(SECRET)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("transaction=ord-key&amount=2500")
        .send()
        .await
        .unwrap();
    let (status, body) = read(form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["amount"], 2500);
}

#[tokio::test]
async fn a_live_key_makes_the_domain_live() {
    let sim = start_sim_with(SimConfig {
        secret_key: "sk_live_sim_suite".to_owned(),
        ..test_config()
    })
    .await;
    let response = sim
        .http
        .post(sim.url("/transaction/initialize"))
        .bearer_auth("sk_live_sim_suite")
        .json(&order("ord-live"))
        .send()
        .await
        .unwrap();
    assert_eq!(read(response).await.0, StatusCode::OK);
    let view = sim.handle.state().transactions();
    assert_eq!(view.len(), 1);
    let response = sim
        .http
        .get(sim.url("/transaction/verify/ord-live"))
        .bearer_auth("sk_live_sim_suite")
        .send()
        .await
        .unwrap();
    assert_eq!(read(response).await.1["data"]["domain"], "live");
}

#[tokio::test]
async fn processed_failed_and_needs_attention_webhooks_follow_paystacks_samples() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.paid("ord-steps").await;
    let a = sim
        .refunded(json!({ "transaction": "ord-steps", "amount": 100000 }))
        .await;
    let b = sim
        .refunded(json!({ "transaction": "ord-steps", "amount": 50000 }))
        .await;
    receiver.wait_for_events(3).await;

    let (status, body) = sim.advance(&a["id"], "processing").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "webhook_status": 200 }))
    );
    let processing = &receiver.wait_for_events(4).await[3];
    assert_eq!(processing["event"], "refund.processing");
    assert_eq!(processing["data"]["status"], "processing");
    assert_eq!(processing["data"]["amount"], "100000");
    assert_eq!(processing["data"]["refund_reference"], Value::Null);

    assert_eq!(sim.advance(&a["id"], "processed").await.0, StatusCode::OK);
    let processed = &receiver.wait_for_events(5).await[4];
    assert_eq!(processed["event"], "refund.processed");
    assert_eq!(processed["data"]["status"], "processed");
    assert_eq!(processed["data"]["amount"], "100000");
    let bank_reference = processed["data"]["refund_reference"].as_str().unwrap();
    assert!(
        bank_reference.len() >= 10 && bank_reference.bytes().all(|b| b.is_ascii_digit()),
        "{bank_reference}"
    );
    assert_eq!(
        receiver.hits()[4].headers["x-paystack-signature"]
            .to_str()
            .unwrap(),
        expected_signature(&receiver.hits()[4].body)
    );

    assert_eq!(
        sim.advance(&b["id"], "needs-attention").await.0,
        StatusCode::OK
    );
    let attention = &receiver.wait_for_events(6).await[5];
    assert_eq!(attention["event"], "refund.needs-attention");
    assert_eq!(attention["data"]["status"], "needs-attention");
    assert_eq!(attention["data"]["amount"], "50000");

    assert_eq!(sim.advance(&b["id"], "failed").await.0, StatusCode::OK);
    let failed = &receiver.wait_for_events(7).await[6];
    assert_eq!(failed["event"], "refund.failed");
    assert_eq!(failed["data"]["status"], "failed");
    assert_eq!(
        failed["data"]["amount"], 50000,
        "an integer in refund.failed"
    );
    assert!(
        failed["data"]["refund_reference"]
            .as_str()
            .unwrap()
            .starts_with("TRF_")
    );
    for key in [
        "transaction_reference",
        "currency",
        "processor",
        "customer",
        "integration",
        "domain",
    ] {
        assert_eq!(failed["data"][key], processed["data"][key], "{key}");
    }

    // The failed amount may be refunded again; the processed one may not.
    let (status, body) = sim
        .refund(json!({ "transaction": "ord-steps", "amount": 50001 }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let again = sim.refunded(json!({ "transaction": "ord-steps" })).await;
    assert_eq!(again["amount"], 50000);
}

#[tokio::test]
async fn refund_statuses_only_move_forward() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.paid("ord-fwd").await;
    let a = sim
        .refunded(json!({ "transaction": "ord-fwd", "amount": 1000 }))
        .await;
    let b = sim
        .refunded(json!({ "transaction": "ord-fwd", "amount": 1000 }))
        .await;
    let c = sim
        .refunded(json!({ "transaction": "ord-fwd", "amount": 1000 }))
        .await;

    assert_eq!(sim.advance(&a["id"], "processing").await.0, StatusCode::OK);
    let (status, body) = sim.advance(&a["id"], "processing").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], false);
    assert!(body["message"].is_string());
    assert_eq!(sim.advance(&a["id"], "processed").await.0, StatusCode::OK);
    for step in ["processing", "processed", "failed", "needs-attention"] {
        let (status, body) = sim.advance(&a["id"], step).await;
        assert_eq!(status, StatusCode::CONFLICT, "processed → {step}");
        assert_eq!(body["status"], false);
    }

    assert_eq!(
        sim.advance(&b["id"], "needs-attention").await.0,
        StatusCode::OK
    );
    assert_eq!(
        sim.advance(&b["id"], "processing").await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(sim.advance(&b["id"], "processed").await.0, StatusCode::OK);

    assert_eq!(sim.advance(&c["id"], "failed").await.0, StatusCode::OK);
    for step in ["processing", "processed", "needs-attention", "failed"] {
        assert_eq!(
            sim.advance(&c["id"], step).await.0,
            StatusCode::CONFLICT,
            "failed → {step}"
        );
    }

    let (status, body) = sim.advance(&json!(7_999_999_999_u64), "processed").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], false);
    assert_eq!(
        sim.advance(&json!("abc"), "processed").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.advance(&a["id"], "pending").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn refunds_can_be_fetched_and_listed_by_transaction() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.paid("ord-list-a").await;
    sim.paid("ord-list-b").await;
    let a1 = sim
        .refunded(json!({ "transaction": "ord-list-a", "amount": 100000 }))
        .await;
    let a2 = sim.refunded(json!({ "transaction": "ord-list-a" })).await;
    let b1 = sim
        .refunded(json!({ "transaction": "ord-list-b", "amount": 500 }))
        .await;
    let transaction_id = sim.verify("ord-list-a").await.1["data"]["id"].clone();

    let (status, body) = sim.api_get(&format!("/refund/{}", a1["id"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], true);
    assert_eq!(body["message"], "Refund retrieved");
    let data = &body["data"];
    assert_eq!(data["id"], a1["id"]);
    assert_eq!(data["transaction"], transaction_id);
    assert_eq!(data["transaction_reference"], "ord-list-a");
    assert_eq!(data["transaction_amount"], 150000);
    assert_eq!(data["amount"], 100000);
    assert_eq!(data["refund_type"], "partial");
    assert_eq!(data["status"], "pending");
    assert_eq!(data["refunded_at"], Value::Null);
    assert_eq!(data["deducted_amount"], 0);
    assert_eq!(data["fully_deducted"], false);
    assert_eq!(data["dispute"], Value::Null);
    assert_eq!(data["initiated_by"], "api");
    assert_eq!(data["refund_channel"], "card");
    assert_eq!(data["collect_account_number"], false);
    assert_eq!(data["customer"]["email"], "ada@example.com");
    assert_eq!(data["createdAt"], a1["createdAt"]);

    sim.advance(&a1["id"], "processed").await;
    let data = sim.api_get(&format!("/refund/{}", a1["id"])).await.1["data"].clone();
    assert_eq!(data["status"], "processed");
    assert!(data["refunded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data["deducted_amount"], 100000);
    assert_eq!(data["fully_deducted"], true);

    for missing in ["/refund/7999999999", "/refund/abc"] {
        let (status, body) = sim.api_get(missing).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::NOT_FOUND,
                json!({ "status": false, "message": "Refund not found" })
            ),
            "{missing}"
        );
    }

    let ids = |body: &Value| -> Vec<Value> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].clone())
            .collect()
    };
    let (status, by_reference) = sim.api_get("/refund?transaction=ord-list-a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_reference["message"], "Refunds retrieved");
    assert_eq!(
        ids(&by_reference),
        [a2["id"].clone(), a1["id"].clone()],
        "newest first"
    );
    assert_eq!(
        by_reference["meta"],
        json!({ "total": 2, "skipped": 0, "perPage": 50, "page": 1, "pageCount": 1 })
    );
    assert_eq!(by_reference["data"][0]["refund_type"], "partial");
    let (_, by_id) = sim
        .api_get(&format!("/refund?transaction={transaction_id}"))
        .await;
    assert_eq!(by_id["data"], by_reference["data"]);

    let (_, everything) = sim.api_get("/refund").await;
    assert_eq!(
        ids(&everything),
        [b1["id"].clone(), a2["id"].clone(), a1["id"].clone()]
    );
    let (_, paged) = sim.api_get("/refund?perPage=2&page=2").await;
    assert_eq!(ids(&paged), [a1["id"].clone()]);
    assert_eq!(
        paged["meta"],
        json!({ "total": 3, "skipped": 2, "perPage": 2, "page": 2, "pageCount": 2 })
    );
    let (_, none) = sim.api_get("/refund?transaction=ghost").await;
    assert_eq!(none["data"], json!([]));
    assert_eq!(
        sim.api_get("/refund?perPage=0").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_fully_processed_refund_reverses_the_transaction() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.paid("ord-rev").await;
    let first = sim
        .refunded(json!({ "transaction": "ord-rev", "amount": 100000 }))
        .await;
    let second = sim.refunded(json!({ "transaction": "ord-rev" })).await;
    assert_eq!(
        sim.advance(&first["id"], "processed").await.0,
        StatusCode::OK
    );
    assert_eq!(
        sim.verify("ord-rev").await.1["data"]["status"],
        "success",
        "partly refunded"
    );
    let rest = sim.api_get(&format!("/refund/{}", second["id"])).await.1;
    assert_eq!(rest["data"]["refund_type"], "partial");

    assert_eq!(
        sim.advance(&second["id"], "processed").await.0,
        StatusCode::OK
    );
    let (_, verified) = sim.verify("ord-rev").await;
    assert_eq!(verified["data"]["status"], "reversed");
    assert!(verified["data"]["paid_at"].is_string());
    assert_eq!(
        sim.handle.state().transaction("ord-rev").unwrap().status,
        paystack_sim::TransactionStatus::Reversed
    );
    let (status, body) = sim.refund(json!({ "transaction": "ord-rev" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Transaction has been fully reversed");
    assert_eq!(
        sim.control("ord-rev", "succeed", None).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_single_full_refund_reads_full_and_the_sim_lists_refunds() {
    let sim = start_sim("http://127.0.0.1:9/unused").await;
    sim.paid("ord-one").await;
    let refund = sim.refunded(json!({ "transaction": "ord-one" })).await;
    let fetched = sim.api_get(&format!("/refund/{}", refund["id"])).await.1;
    assert_eq!(fetched["data"]["refund_type"], "full");

    let (status, listed) = sim
        .sim_post("/_sim/transactions/ord-one/refund", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "nothing left: {listed}");

    let response = sim
        .http
        .get(sim.url("/_sim/transactions"))
        .send()
        .await
        .unwrap();
    let (_, transactions) = read(response).await;
    let entry = &transactions[0];
    assert_eq!(entry["refundable"], 0);
    assert_eq!(entry["refunds"][0]["id"], refund["id"]);
    assert_eq!(entry["refunds"][0]["status"], "pending");
    assert_eq!(entry["refunds"][0]["amount"], 150000);
    assert_eq!(entry["refunds"][0]["transaction_reference"], "ord-one");

    let response = sim.http.get(sim.url("/_sim/refunds")).send().await.unwrap();
    let (status, refunds) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(refunds, entry["refunds"]);
}

#[tokio::test]
async fn the_sim_refund_route_refunds_without_the_key_and_sends_the_webhook() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.paid("ord-page-refund").await;
    let (status, body) = sim
        .sim_post(
            "/_sim/transactions/ord-page-refund/refund",
            Some(json!({ "amount": 700 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Refund has been queued for processing");
    assert_eq!(body["data"]["amount"], 700);
    let events = receiver.wait_for_events(2).await;
    assert_eq!(events[1]["event"], "refund.pending");
    assert_eq!(events[1]["data"]["amount"], "700");

    let (status, body) = sim.sim_post("/_sim/transactions/ghost/refund", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "Transaction not found");
}

// ---- disputes --------------------------------------------------------------------------------

fn parse_time(value: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        value.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

#[tokio::test]
async fn a_dispute_is_opened_reminded_and_resolved_with_paystacks_shapes() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    sim.paid("ord-dsp").await;
    let charge = receiver.wait_for_events(1).await.remove(0);

    let (status, body) = sim
        .sim_post(
            "/_sim/transactions/ord-dsp/dispute",
            Some(json!({ "refund_amount": 5800, "due_in_hours": 48 })),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "webhook_status": 200 }))
    );
    let hits = receiver.wait_for_hits(2).await;
    assert_eq!(
        hits[1].headers["x-paystack-signature"].to_str().unwrap(),
        expected_signature(&hits[1].body)
    );
    let created = hits[1].event();
    assert_eq!(created["event"], "charge.dispute.create");
    let data = &created["data"];
    assert!(data["id"].as_u64().unwrap() > u64::from(u32::MAX));
    assert_eq!(data["refund_amount"], 5800);
    assert_eq!(data["currency"], "NGN");
    assert_eq!(data["status"], "awaiting-merchant-feedback");
    assert_eq!(data["resolution"], Value::Null);
    assert_eq!(data["domain"], "test");
    assert_eq!(
        data["transaction"], charge["data"],
        "the transaction as charge.success carried it"
    );
    assert_eq!(data["transaction_reference"], Value::Null);
    assert_eq!(data["category"], "chargeback");
    let customer = &data["customer"];
    assert_eq!(customer["id"], charge["data"]["customer"]["id"]);
    assert_eq!(customer["email"], "ada@example.com");
    assert_eq!(
        customer["customer_code"],
        charge["data"]["customer"]["customer_code"]
    );
    assert_eq!(customer["metadata"], json!({}));
    assert_eq!(customer["risk_action"], "allow");
    assert_eq!(customer["international_format_phone"], Value::Null);
    assert_eq!(
        (data["bin"].clone(), data["last4"].clone()),
        (json!("408408"), json!("4081"))
    );
    assert_eq!(
        parse_time(&data["dueAt"]) - parse_time(&data["created_at"]),
        time::Duration::hours(48)
    );
    for key in ["resolvedAt", "evidence", "attachments", "note"] {
        assert_eq!(data[key], Value::Null, "{key}");
    }
    assert_eq!(
        data["history"],
        json!([{ "status": "pending", "by": "ada@example.com", "createdAt": data["created_at"] }])
    );
    assert_eq!(
        data["messages"],
        json!([{
            "sender": "ada@example.com",
            "body": "Customer complained about debit without value",
            "createdAt": data["created_at"],
        }])
    );
    assert_eq!(data["updated_at"], data["created_at"]);

    // A second dispute while this one is open is refused.
    let (status, body) = sim
        .sim_post("/_sim/transactions/ord-dsp/dispute", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], false);

    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, _) = sim
        .sim_post("/_sim/transactions/ord-dsp/dispute/remind", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let reminded = &receiver.wait_for_events(3).await[2];
    assert_eq!(reminded["event"], "charge.dispute.remind");
    assert_eq!(reminded["data"]["id"], data["id"]);
    assert_eq!(reminded["data"]["status"], "awaiting-merchant-feedback");
    assert!(parse_time(&reminded["data"]["updated_at"]) > parse_time(&data["updated_at"]));
    assert_eq!(reminded["data"]["created_at"], data["created_at"]);

    let (status, _) = sim
        .sim_post("/_sim/transactions/ord-dsp/dispute/resolve", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let resolved = &receiver.wait_for_events(4).await[3];
    assert_eq!(resolved["event"], "charge.dispute.resolve");
    assert_eq!(resolved["data"]["id"], data["id"]);
    assert_eq!(resolved["data"]["status"], "resolved");
    assert_eq!(resolved["data"]["resolution"], "declined");
    assert!(
        resolved["data"]["resolvedAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(resolved["data"]["transaction"]["status"], "success");
    assert_eq!(sim.verify("ord-dsp").await.1["data"]["status"], "success");

    // Resolved: nothing more to remind or resolve, and the list shows how it ended.
    for step in ["remind", "resolve"] {
        let (status, _) = sim
            .sim_post(&format!("/_sim/transactions/ord-dsp/dispute/{step}"), None)
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{step}");
    }
    let listed = sim
        .handle
        .state()
        .transaction("ord-dsp")
        .unwrap()
        .dispute
        .unwrap();
    assert_eq!(listed.id, data["id"].as_u64().unwrap());
    assert_eq!(listed.status, paystack_sim::DisputeStatus::Resolved);
    assert_eq!(listed.resolution, Some(paystack_sim::Resolution::Declined));
    assert_eq!(listed.refund_amount, 5800);
    let response = sim
        .http
        .get(sim.url("/_sim/transactions"))
        .send()
        .await
        .unwrap();
    let entry = read(response).await.1[0]["dispute"].clone();
    assert_eq!(entry["status"], "resolved");
    assert_eq!(entry["resolution"], "declined");
}

#[tokio::test]
async fn an_accepted_dispute_reverses_the_transaction() {
    for resolution in ["merchant-accepted", "auto-accepted"] {
        let receiver = Receiver::start(&[]).await;
        let sim = start_sim(&receiver.url()).await;
        sim.paid("ord-lost-dispute").await;
        sim.sim_post("/_sim/transactions/ord-lost-dispute/dispute", None)
            .await;
        let (status, _) = sim
            .sim_post(
                "/_sim/transactions/ord-lost-dispute/dispute/resolve",
                Some(json!({ "resolution": resolution })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{resolution}");
        let events = receiver.wait_for_events(3).await;
        let opened = &events[1]["data"];
        assert_eq!(
            opened["refund_amount"], 150000,
            "the whole amount by default"
        );
        let resolved = &events[2]["data"];
        assert_eq!(resolved["resolution"], resolution);
        assert_eq!(resolved["transaction"]["status"], "reversed");
        assert_eq!(
            sim.verify("ord-lost-dispute").await.1["data"]["status"],
            "reversed"
        );
        let (status, body) = sim
            .refund(json!({ "transaction": "ord-lost-dispute" }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], "Transaction has been fully reversed");
    }
}

#[tokio::test]
async fn disputes_of_unpaid_or_unknown_transactions_and_bad_bodies_are_refused() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    for step in ["dispute", "dispute/remind", "dispute/resolve"] {
        let (status, body) = sim
            .sim_post(&format!("/_sim/transactions/ghost/{step}"), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{step}");
        assert_eq!(body["status"], false);
    }

    sim.initialized(order("ord-unpaid-dsp")).await;
    let (status, body) = sim
        .sim_post("/_sim/transactions/ord-unpaid-dsp/dispute", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("not been paid"));

    sim.paid("ord-paid-dsp").await;
    for bad in [
        json!({ "refund_amount": 0 }),
        json!({ "refund_amount": 150001 }),
        json!({ "refund_amount": -1 }),
        json!({ "due_in_hours": "soon" }),
        json!({ "surprise": true }),
    ] {
        let (status, _) = sim
            .sim_post("/_sim/transactions/ord-paid-dsp/dispute", Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = sim
        .sim_post("/_sim/transactions/ord-paid-dsp/dispute/remind", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "no dispute open yet");
    sim.sim_post("/_sim/transactions/ord-paid-dsp/dispute", None)
        .await;
    let (status, _) = sim
        .sim_post(
            "/_sim/transactions/ord-paid-dsp/dispute/resolve",
            Some(json!({ "resolution": "shrug" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Once resolved, the customer may dispute again.
    sim.sim_post("/_sim/transactions/ord-paid-dsp/dispute/resolve", None)
        .await;
    let (status, _) = sim
        .sim_post("/_sim/transactions/ord-paid-dsp/dispute", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = receiver.wait_for_events(4).await;
    assert_ne!(events[3]["data"]["id"], events[1]["data"]["id"]);
}

// ---- developer page --------------------------------------------------------------------------

#[tokio::test]
async fn the_developer_page_lists_transactions_with_refund_and_step_buttons() {
    let receiver = Receiver::start(&[]).await;
    let sim = start_sim(&receiver.url()).await;
    let page = || async {
        let response = sim.http.get(sim.url("/_sim")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        (csp, response.text().await.unwrap())
    };

    let (_, html) = page().await;
    assert!(html.contains("No transactions yet"), "{html}");

    sim.initialized(json!({ "email": "<b>eve</b>@example.com", "amount": 5000, "reference": "ord-unpaid-page" }))
        .await;
    sim.paid("ord-dev").await;
    let (csp, html) = page().await;
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'nonce-"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(html.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "no external assets"
    );
    assert!(!html.contains("<b>eve</b>"), "escaped");
    assert!(html.contains("&lt;b&gt;eve&lt;/b&gt;@example.com"));
    assert!(html.contains("data-post=\"/_sim/transactions/ord-dev/refund\">Refund ₦1,500.00<"));
    assert!(
        !html.contains("/_sim/transactions/ord-unpaid-page/refund"),
        "unpaid: no Refund"
    );

    // The Refund button's route: a full refund and its webhook, then the refund's steps.
    let (status, body) = sim
        .sim_post("/_sim/transactions/ord-dev/refund", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["amount"], 150000);
    let id = body["data"]["id"].as_u64().unwrap();
    assert_eq!(
        receiver.wait_for_events(2).await[1]["event"],
        "refund.pending"
    );
    let (_, html) = page().await;
    assert!(
        !html.contains("/_sim/transactions/ord-dev/refund"),
        "nothing left to refund"
    );
    assert!(html.contains(&format!(
        "#{id} ₦1,500.00 <span class=\"status\">pending</span>"
    )));
    for step in ["processing", "processed", "failed", "needs-attention"] {
        assert!(
            html.contains(&format!("data-post=\"/_sim/refunds/{id}/{step}\"")),
            "{step}"
        );
    }
    sim.advance(&json!(id), "needs-attention").await;
    let (_, html) = page().await;
    assert!(!html.contains(&format!("/_sim/refunds/{id}/processing\"")));
    assert!(html.contains(&format!("/_sim/refunds/{id}/processed\"")));
    sim.advance(&json!(id), "processed").await;
    let (_, html) = page().await;
    assert!(
        !html.contains(&format!("/_sim/refunds/{id}/")),
        "final: no buttons"
    );
    assert!(html.contains("<span class=\"status\">reversed</span>"));
}
