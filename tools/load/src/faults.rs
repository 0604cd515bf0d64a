//! The fault phases, run while the customers keep going: DynamoDB Local stopped and restarted on
//! the same port and data, DynamoDB Local frozen (it accepts connections and answers nothing, as a
//! table in trouble does), the Paystack simulator stopped and restarted, and the simulator slowed
//! past our Paystack timeout. Each phase probes the API while the fault is in force (503 or 502
//! problem+json, fast, the order unchanged) and again after it (a full purchase works).
//!
//! Stopping and starting the stand-ins is the hook's job (`bash <hook> fault <dynamodb|paystack>
//! <stop|start>`, and `fault dynamodb <freeze|thaw>`; scripts/load.sh): it knows how the stack was
//! started.

use crate::client::{Answer, Body};
use crate::customer::{Customer, Placed, Shared};
use crate::verdict::{FaultKind, START_PAYMENT, Window};
use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// After a dependency is back, requests already under way still count as inside the fault.
pub const GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub hook: PathBuf,
    pub dynamodb_down: Duration,
    pub dynamodb_hung: Duration,
    pub paystack_down: Duration,
    pub paystack_slow: Duration,
    pub recovery: Duration,
    pub paystack_timeout: Duration,
    pub paystack_slack: Duration,
}

/// What one fault phase showed.
#[derive(Debug, Clone, Serialize)]
pub struct FaultOutcome {
    pub kind: FaultKind,
    #[serde(skip)]
    pub window: Window,
    pub start_s: f64,
    pub end_s: f64,
    /// Each probe and what it saw.
    pub probes: Vec<String>,
    /// Every probe answered as it should.
    pub passed: bool,
    /// Filled in afterwards from the samples: the slowest answer inside the window.
    pub max_latency_ms: f64,
    /// And every status seen inside it.
    pub statuses: std::collections::BTreeMap<String, usize>,
    pub requests: usize,
}

struct Phase {
    kind: FaultKind,
    shared: Arc<Shared>,
    probes: Vec<String>,
    passed: bool,
}

impl Phase {
    fn new(kind: FaultKind, shared: &Arc<Shared>) -> Self {
        Self {
            kind,
            shared: shared.clone(),
            probes: Vec::new(),
            passed: true,
        }
    }

    fn note(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        let line = format!("{} {what}", if ok { "ok  " } else { "FAIL" });
        eprintln!("load:   {line}");
        if !ok {
            self.passed = false;
            self.shared
                .violations
                .add("fault_probe_failed", format!("{:?}: {what}", self.kind));
        }
        self.probes.push(line);
    }

    fn finish(self, start: Duration, end: Duration) -> FaultOutcome {
        FaultOutcome {
            kind: self.kind,
            window: Window {
                kind: self.kind,
                start,
                end: end + GRACE,
            },
            start_s: round(start),
            end_s: round(end),
            probes: self.probes,
            passed: self.passed,
            max_latency_ms: 0.0,
            statuses: Default::default(),
            requests: 0,
        }
    }

    /// A single `POST /orders/{id}/payments`, which must fail as a dependency failure does, and
    /// leave the order as it was.
    async fn refused_payment(
        &mut self,
        customer: &Customer,
        order: &Placed,
        allowed: &[u16],
    ) -> Answer {
        let http = self.shared.http.clone();
        let token = customer.access_token();
        let answer = http
            .api(
                START_PAYMENT,
                Method::POST,
                &format!("/orders/{}/payments", order.id),
                Some(&token),
                &[],
                Body::Empty,
            )
            .await;
        let problem = is_problem(&answer);
        self.note(
            allowed.contains(&answer.status) && problem,
            format!(
                "payment start answers {} problem+json={problem} in {} ms (want {allowed:?})",
                crate::verdict::status_text(answer.status),
                answer.latency.as_millis()
            ),
        );
        let after = http
            .api(
                "GET /orders/{id}",
                Method::GET,
                &format!("/orders/{}", order.id),
                Some(&token),
                &[],
                Body::Empty,
            )
            .await;
        let unchanged = after.status == 200
            && after.text("status") == "pending_payment"
            && after.text("updated_at") == order.updated_at;
        self.note(
            unchanged,
            format!("order unchanged afterwards ({})", after.describe()),
        );
        answer
    }

    /// A whole purchase once the dependency is back: order, pay, paid.
    async fn purchase(&mut self, what: &str) {
        let mut customer = Customer::new(self.shared.clone(), 900_000 + self.probes.len());
        let started = Instant::now();
        let result = async {
            let order = customer.place_order().await?;
            customer.plain(&order).await
        }
        .await;
        let why = customer.last_failure.clone();
        self.note(
            result.is_ok(),
            format!(
                "{what}: a full purchase works ({} ms){}",
                started.elapsed().as_millis(),
                if result.is_ok() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            ),
        );
    }
}

fn is_problem(answer: &Answer) -> bool {
    answer
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

fn round(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}

/// Runs the hook: `bash <hook> fault <target> <action>`, bounded.
async fn hook(plan: &FaultPlan, target: &str, action: &str) -> Result<()> {
    eprintln!("load: {target} {action}");
    let mut command = tokio::process::Command::new("bash");
    command
        .arg(&plan.hook)
        .args(["fault", target, action])
        .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(180), command.status())
        .await
        .with_context(|| format!("`{target} {action}` took over 180 s"))?
        .with_context(|| format!("running {}", plan.hook.display()))?;
    if !status.success() {
        bail!(
            "`{} fault {target} {action}` failed: {status}",
            plan.hook.display()
        );
    }
    Ok(())
}

/// DynamoDB Local stopped while the customers keep going, then started again on its data.
pub async fn dynamodb(shared: &Arc<Shared>, plan: &FaultPlan) -> Result<FaultOutcome> {
    eprintln!(
        "load: fault: DynamoDB Local stopped for {} s",
        plan.dynamodb_down.as_secs()
    );
    let mut phase = Phase::new(FaultKind::DynamodbDown, shared);
    // Someone who signs up before the outage logs in after it: the table kept its data.
    let mut keeper = Customer::new(shared.clone(), 800_000);
    if keeper.register().await.is_err() {
        bail!(
            "could not sign up a customer before the outage: {}",
            keeper.last_failure
        );
    }
    let recorder = shared.http.recorder();
    let start = recorder.now();
    let clock = Instant::now();
    hook(plan, "dynamodb", "stop").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let health = shared
        .http
        .api(
            "GET /health",
            Method::GET,
            "/health",
            None,
            &[],
            Body::Empty,
        )
        .await;
    phase.note(
        health.status == 503 && is_problem(&health) && health.header("retry-after").is_some(),
        format!(
            "GET /health answers {} problem+json={} retry-after={:?} in {} ms",
            crate::verdict::status_text(health.status),
            is_problem(&health),
            health.header("retry-after"),
            health.latency.as_millis()
        ),
    );
    let token = keeper.access_token();
    let cart = shared
        .http
        .api(
            "GET /cart",
            Method::GET,
            "/cart",
            Some(&token),
            &[],
            Body::Empty,
        )
        .await;
    phase.note(
        cart.status == 503 && is_problem(&cart),
        format!(
            "GET /cart answers {} in {} ms",
            crate::verdict::status_text(cart.status),
            cart.latency.as_millis()
        ),
    );
    tokio::time::sleep(plan.dynamodb_down.saturating_sub(clock.elapsed())).await;
    hook(plan, "dynamodb", "start").await?;
    let end = recorder.now();
    tokio::time::sleep(GRACE).await;
    let relogin = keeper.login_again().await;
    phase.note(
        relogin.is_ok(),
        "a customer made before the outage logs in after it (the data survived the restart)",
    );
    tokio::time::sleep(plan.recovery).await;
    phase.purchase("after the restart").await;
    Ok(phase.finish(start, end))
}

/// DynamoDB Local frozen while the customers keep going: every table request waits until the SDK
/// gives up (its operation timeout), and the function must still answer 503 itself, within its own
/// timeout.
pub async fn dynamodb_hung(shared: &Arc<Shared>, plan: &FaultPlan) -> Result<FaultOutcome> {
    eprintln!(
        "load: fault: DynamoDB Local frozen for {} s",
        plan.dynamodb_hung.as_secs()
    );
    let mut phase = Phase::new(FaultKind::DynamodbHung, shared);
    let recorder = shared.http.recorder();
    let start = recorder.now();
    let clock = Instant::now();
    hook(plan, "dynamodb", "freeze").await?;
    let health = shared
        .http
        .api(
            "GET /health",
            Method::GET,
            "/health",
            None,
            &[],
            Body::Empty,
        )
        .await;
    phase.note(
        health.status == 503 && is_problem(&health),
        format!(
            "GET /health answers {} problem+json={} in {} ms",
            crate::verdict::status_text(health.status),
            is_problem(&health),
            health.latency.as_millis()
        ),
    );
    tokio::time::sleep(plan.dynamodb_hung.saturating_sub(clock.elapsed())).await;
    hook(plan, "dynamodb", "thaw").await?;
    let end = recorder.now();
    tokio::time::sleep(GRACE + plan.recovery).await;
    phase.purchase("after the thaw").await;
    Ok(phase.finish(start, end))
}

/// The Paystack simulator stopped, then started again.
pub async fn paystack_down(shared: &Arc<Shared>, plan: &FaultPlan) -> Result<FaultOutcome> {
    eprintln!(
        "load: fault: Paystack simulator stopped for {} s",
        plan.paystack_down.as_secs()
    );
    let mut phase = Phase::new(FaultKind::PaystackDown, shared);
    let mut customer = Customer::new(shared.clone(), 800_001);
    let Ok(order) = customer.place_order().await else {
        bail!(
            "could not place an order before stopping the simulator: {}",
            customer.last_failure
        );
    };
    let recorder = shared.http.recorder();
    // No payment may be between "paid on the simulator" and "recorded" when it goes: it forgets
    // its transactions.
    let checkout = shared.checkout.write().await;
    let start = recorder.now();
    let clock = Instant::now();
    let stopped = hook(plan, "paystack", "stop").await;
    drop(checkout);
    stopped?;
    phase.refused_payment(&customer, &order, &[502, 503]).await;
    tokio::time::sleep(plan.paystack_down.saturating_sub(clock.elapsed())).await;
    hook(plan, "paystack", "start").await?;
    let end = recorder.now();
    tokio::time::sleep(GRACE + plan.recovery).await;
    phase.purchase("after the restart").await;
    let paid = customer.plain(&order).await;
    phase.note(
        paid.is_ok(),
        "the order refused during the outage is paid after it",
    );
    Ok(phase.finish(start, end))
}

/// The simulator answering slower than our Paystack timeout, then at full speed again.
pub async fn paystack_slow(shared: &Arc<Shared>, plan: &FaultPlan) -> Result<FaultOutcome> {
    let delay = plan.paystack_timeout + Duration::from_secs(3);
    eprintln!(
        "load: fault: Paystack simulator answering after {} ms (our timeout {} ms) for {} s",
        delay.as_millis(),
        plan.paystack_timeout.as_millis(),
        plan.paystack_slow.as_secs()
    );
    let mut phase = Phase::new(FaultKind::PaystackSlow, shared);
    let mut customer = Customer::new(shared.clone(), 800_002);
    let Ok(order) = customer.place_order().await else {
        bail!(
            "could not place an order before slowing the simulator: {}",
            customer.last_failure
        );
    };
    let recorder = shared.http.recorder();
    let start = recorder.now();
    let clock = Instant::now();
    set_delay(shared, delay).await?;
    let answer = phase.refused_payment(&customer, &order, &[503]).await;
    let limit = plan.paystack_timeout + plan.paystack_slack;
    phase.note(
        answer.latency >= plan.paystack_timeout.mul_f64(0.9) && answer.latency <= limit,
        format!(
            "the 503 comes {} ms after the request: just after our {} ms timeout, within {} ms",
            answer.latency.as_millis(),
            plan.paystack_timeout.as_millis(),
            limit.as_millis()
        ),
    );
    tokio::time::sleep(plan.paystack_slow.saturating_sub(clock.elapsed())).await;
    set_delay(shared, Duration::ZERO).await?;
    let end = recorder.now();
    tokio::time::sleep(GRACE + plan.recovery).await;
    phase.purchase("at full speed again").await;
    let paid = customer.plain(&order).await;
    phase.note(
        paid.is_ok(),
        "the order refused while slow is paid afterwards",
    );
    Ok(phase.finish(start, end))
}

async fn set_delay(shared: &Shared, delay: Duration) -> Result<()> {
    let answer = shared
        .http
        .simulator_json(
            "POST /_sim/config",
            "/_sim/config",
            json!({"delay_ms": delay.as_millis() as u64}),
        )
        .await;
    if answer.status != 200 {
        bail!("the simulator refused its new delay: {}", answer.describe());
    }
    Ok(())
}
