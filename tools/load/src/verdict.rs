//! What counts as a failure: the list of violations, the fault windows, and the rules every recorded
//! answer is held to (no 5xx outside a fault window, only the expected 5xx inside one, never slower
//! than the function's own timeout).

use crate::stats::{Delivery, Sample, Target, lock};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// Violations by kind, each with its details (the first few are printed).
#[derive(Debug, Default)]
pub struct Violations {
    found: Mutex<BTreeMap<&'static str, Vec<String>>>,
}

impl Violations {
    pub fn add(&self, kind: &'static str, detail: impl Into<String>) {
        lock(&self.found)
            .entry(kind)
            .or_default()
            .push(detail.into());
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        lock(&self.found).is_empty()
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, Vec<String>> {
        lock(&self.found).clone()
    }

    #[cfg(test)]
    pub fn count(&self, kind: &str) -> usize {
        lock(&self.found).get(kind).map_or(0, Vec::len)
    }
}

/// A fault the run injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// DynamoDB Local stopped (and later restarted on the same port and data).
    DynamodbDown,
    /// DynamoDB Local frozen (SIGSTOP): connections open, nothing answers, until it is thawed.
    DynamodbHung,
    /// The Paystack simulator stopped.
    PaystackDown,
    /// The Paystack simulator answering slower than our Paystack timeout.
    PaystackSlow,
}

/// When a fault was in force, from the start of the run. `end` includes the grace after the
/// dependency came back, for requests already under way.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    pub kind: FaultKind,
    pub start: Duration,
    pub end: Duration,
}

impl Window {
    /// Whether the request was under way at any time during the window.
    pub fn covers(&self, sample: &Sample) -> bool {
        sample.started < self.end && sample.ended() >= self.start
    }

    fn covers_instant(&self, at: Duration) -> bool {
        at >= self.start && at < self.end
    }
}

/// The routes that call Paystack: the only ones allowed a 502 or 503 while Paystack is down or slow.
pub const PAYSTACK_ROUTES: &[&str] = &[
    "POST /orders/{id}/payments",
    "POST /payments/{reference}/verify",
    "POST /admin/orders/{id}/refunds",
];

pub const START_PAYMENT: &str = "POST /orders/{id}/payments";

/// Which function serves a route (the first path segment decides, as in the workspace router),
/// and each function's timeout from template.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionTimeouts {
    by_function: HashMap<String, Duration>,
}

impl FunctionTimeouts {
    /// Reads `Timeout` of every `AWS::Serverless::Function` in the template, by its binary name.
    pub fn from_template(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_template_text(&text)
    }

    pub fn from_template_text(text: &str) -> Result<Self> {
        let template: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).context("template.yaml is not YAML")?;
        let global = template["Globals"]["Function"]["Timeout"].as_u64();
        let mut by_function = HashMap::new();
        let Some(resources) = template["Resources"].as_mapping() else {
            bail!("template.yaml has no Resources");
        };
        for resource in resources.values() {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let Some(binary) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() else {
                continue;
            };
            let Some(seconds) = resource["Properties"]["Timeout"].as_u64().or(global) else {
                bail!("function {binary} in template.yaml has no Timeout");
            };
            by_function.insert(binary.to_string(), Duration::from_secs(seconds));
        }
        if by_function.is_empty() {
            bail!("template.yaml names no functions with a BuildProperties.Binary");
        }
        Ok(Self { by_function })
    }

    /// The function behind `route` (`METHOD /path`), as the workspace router maps it.
    pub fn function_of(route: &str) -> &'static str {
        let path = route.split_once(' ').map_or(route, |(_, path)| path);
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        match first {
            "auth" | "me" => "auth",
            "dishes" | "health" | "openapi.json" | "docs" => "dishes",
            "cart" => "orders",
            "orders" if path.ends_with("/payments") => "payments",
            "orders" => "orders",
            "payments" => "payments",
            "webhooks" => "paystack-webhook",
            "admin" => "admin",
            _ => "unknown",
        }
    }

    pub fn of_route(&self, route: &str) -> Option<Duration> {
        self.by_function.get(Self::function_of(route)).copied()
    }

    pub fn all(&self) -> BTreeMap<String, u64> {
        self.by_function
            .iter()
            .map(|(name, timeout)| (name.clone(), timeout.as_secs()))
            .collect()
    }
}

/// Limits the rules need.
#[derive(Debug, Clone)]
pub struct Rules {
    pub timeouts: FunctionTimeouts,
    /// Our Paystack client's timeout (`PAYSTACK_TIMEOUT_MS`).
    pub paystack_timeout: Duration,
    /// How long after the Paystack timeout a 503 may still arrive while Paystack is slow.
    pub paystack_slack: Duration,
}

/// Holds every API answer to the rules; returns the largest latency seen inside each window.
pub fn check_samples(
    samples: &[Sample],
    deliveries: &[Delivery],
    windows: &[Window],
    rules: &Rules,
    violations: &Violations,
) -> Vec<Duration> {
    let mut window_max = vec![Duration::ZERO; windows.len()];
    for sample in samples.iter().filter(|s| s.target == Target::Api) {
        let covering: Vec<usize> = (0..windows.len())
            .filter(|&i| windows[i].covers(sample))
            .collect();
        for &i in &covering {
            window_max[i] = window_max[i].max(sample.latency);
        }
        let at = format!(
            "{} at {:.1}s: {} after {} ms",
            sample.route,
            sample.started.as_secs_f64(),
            status_text(sample.status),
            sample.latency.as_millis()
        );
        if let Some(limit) = rules.timeouts.of_route(sample.route)
            && sample.latency >= limit
        {
            violations.add(
                "slower_than_function_timeout",
                format!("{at} (function timeout {} s)", limit.as_secs()),
            );
        }
        if sample.status == 0 {
            violations.add("no_answer", at);
            continue;
        }
        if sample.status < 500 {
            continue;
        }
        if sample.status == 500 {
            violations.add("internal_error", at);
            continue;
        }
        if !sample.problem_json {
            violations.add("error_not_problem_json", at.clone());
        }
        if covering.is_empty() {
            violations.add("5xx_outside_fault_window", at);
            continue;
        }
        let allowed = covering.iter().any(|&i| match windows[i].kind {
            FaultKind::DynamodbDown | FaultKind::DynamodbHung => sample.status == 503,
            FaultKind::PaystackDown | FaultKind::PaystackSlow => {
                PAYSTACK_ROUTES.contains(&sample.route) && matches!(sample.status, 502 | 503)
            }
        });
        if !allowed {
            let kinds: Vec<_> = covering.iter().map(|&i| windows[i].kind).collect();
            violations.add(
                "unexpected_5xx_in_fault_window",
                format!("{at} ({kinds:?})"),
            );
        }
        let slow_window = covering
            .iter()
            .any(|&i| windows[i].kind == FaultKind::PaystackSlow);
        if slow_window
            && sample.route == START_PAYMENT
            && sample.latency > rules.paystack_timeout + rules.paystack_slack
        {
            violations.add(
                "late_answer_while_paystack_slow",
                format!(
                    "{at} (Paystack timeout {} ms)",
                    rules.paystack_timeout.as_millis()
                ),
            );
        }
    }
    for delivery in deliveries {
        if delivery.status != 0 && delivery.status < 500 {
            continue;
        }
        let in_outage = windows.iter().any(|w| {
            matches!(w.kind, FaultKind::DynamodbDown | FaultKind::DynamodbHung)
                && w.covers_instant(delivery.at)
        });
        if !in_outage {
            violations.add(
                "webhook_failed_outside_fault_window",
                format!(
                    "simulator's webhook delivery at {:.1}s: {}",
                    delivery.at.as_secs_f64(),
                    status_text(delivery.status)
                ),
            );
        }
    }
    window_max
}

pub fn status_text(status: u16) -> String {
    match status {
        0 => "no answer".to_string(),
        status => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Globals:
  Function:
    Timeout: 3
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  OrdersFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: orders
    Properties:
      Timeout: 10
      Environment:
        Variables:
          TABLE_NAME: !Ref Table
  PaymentsFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: payments
    Properties:
      Timeout: 15
  DishesFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: dishes
    Properties:
      MemorySize: 256
"#;

    fn rules() -> Rules {
        Rules {
            timeouts: FunctionTimeouts::from_template_text(TEMPLATE).unwrap(),
            paystack_timeout: Duration::from_secs(5),
            paystack_slack: Duration::from_secs(2),
        }
    }

    fn sample(route: &'static str, status: u16, started_s: f64, latency_ms: u64) -> Sample {
        Sample {
            route,
            target: Target::Api,
            status,
            problem_json: status >= 400,
            started: Duration::from_secs_f64(started_s),
            latency: Duration::from_millis(latency_ms),
        }
    }

    fn window(kind: FaultKind, start: u64, end: u64) -> Window {
        Window {
            kind,
            start: Duration::from_secs(start),
            end: Duration::from_secs(end),
        }
    }

    #[test]
    fn timeouts_come_from_the_template_by_binary_with_the_global_default() {
        let rules = rules();
        assert_eq!(
            rules.timeouts.of_route("POST /orders"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            rules.timeouts.of_route("POST /orders/{id}/payments"),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            rules.timeouts.of_route("GET /health"),
            Some(Duration::from_secs(3))
        );
        assert_eq!(rules.timeouts.of_route("POST /auth/login"), None);
        assert_eq!(
            FunctionTimeouts::function_of("POST /webhooks/paystack"),
            "paystack-webhook"
        );
        assert_eq!(FunctionTimeouts::function_of("GET /cart"), "orders");
    }

    #[test]
    fn a_5xx_is_allowed_only_inside_a_window_that_explains_it() {
        let windows = [
            window(FaultKind::DynamodbDown, 10, 20),
            window(FaultKind::PaystackDown, 30, 40),
            window(FaultKind::PaystackSlow, 50, 60),
        ];
        let samples = [
            // Fine: 503s while the table is down, a payment's 502 while Paystack is down.
            sample("POST /orders", 503, 12.0, 40),
            sample("GET /cart", 503, 9.9, 200),
            sample("POST /orders/{id}/payments", 502, 31.0, 30),
            sample("POST /orders/{id}/payments", 503, 51.0, 5_900),
            sample("GET /dishes", 200, 55.0, 10),
            // Not fine.
            sample("GET /dishes", 503, 25.0, 10),
            sample("GET /dishes", 503, 35.0, 10),
            sample("POST /orders", 500, 15.0, 10),
            sample("POST /orders/{id}/payments", 503, 52.0, 7_500),
            sample("GET /health", 0, 1.0, 4_000),
        ];
        let violations = Violations::default();
        let max = check_samples(&samples, &[], &windows, &rules(), &violations);
        let found = violations.snapshot();
        assert_eq!(found["5xx_outside_fault_window"].len(), 1, "{found:?}");
        assert_eq!(
            found["unexpected_5xx_in_fault_window"].len(),
            1,
            "{found:?}"
        );
        assert_eq!(found["internal_error"].len(), 1, "{found:?}");
        assert_eq!(
            found["late_answer_while_paystack_slow"].len(),
            1,
            "{found:?}"
        );
        assert_eq!(found["no_answer"].len(), 1, "{found:?}");
        assert_eq!(
            found["slower_than_function_timeout"].len(),
            1,
            "GET /health waited 4 s against the dishes function's 3 s: {found:?}"
        );
        assert_eq!(found.len(), 6, "{found:?}");
        assert_eq!(max[0], Duration::from_millis(200));
        assert_eq!(max[2], Duration::from_millis(7_500));
    }

    #[test]
    fn a_failed_webhook_delivery_is_allowed_only_while_the_table_is_down() {
        let windows = [window(FaultKind::DynamodbDown, 10, 20)];
        let deliveries = [
            Delivery {
                at: Duration::from_secs(11),
                status: 503,
            },
            Delivery {
                at: Duration::from_secs(21),
                status: 503,
            },
            Delivery {
                at: Duration::from_secs(22),
                status: 200,
            },
        ];
        let violations = Violations::default();
        check_samples(&[], &deliveries, &windows, &rules(), &violations);
        assert_eq!(violations.count("webhook_failed_outside_fault_window"), 1);
    }
}
