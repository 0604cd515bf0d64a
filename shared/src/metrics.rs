//! Metrics as CloudWatch embedded-metric-format (EMF) lines: one JSON object printed to stdout, which
//! Lambda's log capture turns into a metric in the `Kitchen` namespace, with no API call and no
//! extra latency.
//!
//! Every metric the code emits is declared here, once, and emitted only through its declaration
//! (`metrics::ORDERS_PLACED.count(["customer"])`): its name, its dimensions, and whether it counts
//! money or messages gone astray. [`REGISTRY`] lists them all; tests/contract/tests/api/alarms.rs holds
//! template.yaml's alarms to it, so an alarm cannot watch a metric nobody emits, and a loss of
//! money or of a message cannot go without an alarm.

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "Kitchen";

/// Every metric carries this dimension, so none has an empty dimension set.
pub const SERVICE: (&str, &str) = ("Service", "kitchen-api");

/// What a metric counts, as far as alarms are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// Money gone astray: a charge that does not match its payment, a refund someone must make.
    /// Someone must hear of each one, so such a metric must have an alarm.
    Money,
    /// A message that did not reach its recipient: an SMS, an order event. Must have an alarm too.
    Messages,
    /// Anything else: a tally for a dashboard, or a failure an alarm may watch but need not.
    Other,
}

/// A metric with `N` dimensions besides `Service`. Only this module can make one, so every metric
/// is declared below.
#[derive(Debug)]
pub struct Metric<const N: usize> {
    name: &'static str,
    /// The dimensions besides `Service`, in the order [`Metric::count`] takes their values.
    dimensions: [&'static str; N],
    /// Also published under `Service` alone, so that one alarm sees every value of the dimensions
    /// (an event type added later included).
    rollup: bool,
    concern: Concern,
}

/// What [`REGISTRY`] holds of a metric, whatever its number of dimensions.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub name: &'static str,
    pub dimensions: &'static [&'static str],
    pub rollup: bool,
    pub concern: Concern,
}

impl Declared {
    /// The dimension names of every set the metric is published under, `Service` first.
    pub fn dimension_sets(&self) -> Vec<Vec<&'static str>> {
        let full = std::iter::once(SERVICE.0)
            .chain(self.dimensions.iter().copied())
            .collect();
        let mut sets = vec![full];
        if self.rollup && !self.dimensions.is_empty() {
            sets.push(vec![SERVICE.0]);
        }
        sets
    }
}

impl<const N: usize> Metric<N> {
    /// Counts one, with these values of the metric's dimensions; printed as an EMF line.
    pub fn count(&'static self, values: [&str; N]) {
        println!("{}", self.count_line(values));
    }

    /// The EMF line counting one.
    pub fn count_line(&'static self, values: [&str; N]) -> Value {
        // The one clock (whole seconds); CloudWatch takes milliseconds.
        let timestamp = crate::now().unix_timestamp() * 1000;
        let mut line = Map::new();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": self.declared().dimension_sets(),
                    "Metrics": [{"Name": self.name, "Unit": "Count"}],
                }],
            }),
        );
        line.insert(SERVICE.0.into(), Value::String(SERVICE.1.into()));
        for (name, value) in self.dimensions.iter().zip(values) {
            line.insert((*name).into(), Value::String(value.into()));
        }
        line.insert(self.name.into(), json!(1));
        Value::Object(line)
    }

    pub const fn declared(&'static self) -> Declared {
        Declared {
            name: self.name,
            dimensions: &self.dimensions,
            rollup: self.rollup,
            concern: self.concern,
        }
    }
}

/// A 5xx answer of an HTTP function, by `FunctionName` (Lambda's name for the function, which is
/// what `!Ref` gives in template.yaml). lambda_http reports an answered 500 as a successful
/// invocation, so `AWS/Lambda Errors` never sees one; this does.
pub static SERVER_ERRORS: Metric<1> = Metric {
    name: "ServerErrors",
    dimensions: ["FunctionName"],
    rollup: false,
    concern: Concern::Other,
};

/// An order placed, by `PlacedBy` (`customer`, or `admin` for staff placing a phone order).
pub static ORDERS_PLACED: Metric<1> = Metric {
    name: "OrdersPlaced",
    dimensions: ["PlacedBy"],
    rollup: false,
    concern: Concern::Other,
};

/// A charge recorded and its order paid.
pub static PAYMENTS_SUCCEEDED: Metric<0> = Metric {
    name: "PaymentsSucceeded",
    dimensions: [],
    rollup: false,
    concern: Concern::Other,
};

/// A charge that succeeded for an order no longer awaiting it (cancelled, expired, paid by another
/// attempt): the customer paid and must be refunded.
pub static PAYMENTS_REFUND_DUE: Metric<0> = Metric {
    name: "PaymentsRefundDue",
    dimensions: [],
    rollup: false,
    concern: Concern::Money,
};

/// A charge whose amount or currency is not the payment's: the order stays unpaid, a refund is due.
pub static PAYMENTS_MISMATCHED: Metric<0> = Metric {
    name: "PaymentsMismatched",
    dimensions: [],
    rollup: false,
    concern: Concern::Money,
};

/// A webhook refused, by `Reason` (`signature`).
pub static WEBHOOKS_REJECTED: Metric<1> = Metric {
    name: "WebhooksRejected",
    dimensions: ["Reason"],
    rollup: false,
    concern: Concern::Other,
};

/// An SMS SNS accepted, by `Recipient` and `EventType`.
pub static SMS_SENT: Metric<2> = Metric {
    name: "SmsSent",
    dimensions: ["Recipient", "EventType"],
    rollup: false,
    concern: Concern::Other,
};

/// An SMS SNS did not take, by `Recipient` and `EventType`, and in all.
pub static SMS_FAILED: Metric<2> = Metric {
    name: "SmsFailed",
    dimensions: ["Recipient", "EventType"],
    rollup: true,
    concern: Concern::Messages,
};

/// An order event that did not reach the topic (so no SMS either), by `EventType`, and in all.
pub static EVENT_PUBLISH_FAILED: Metric<1> = Metric {
    name: "EventPublishFailed",
    dimensions: ["EventType"],
    rollup: true,
    concern: Concern::Messages,
};

/// An account email (a verification or reset link) SES did not take, by `Purpose`, and in all.
pub static EMAIL_FAILED: Metric<1> = Metric {
    name: "EmailFailed",
    dimensions: ["Purpose"],
    rollup: true,
    concern: Concern::Messages,
};

/// A refund Paystack took, by who asked for it (`RequestedBy`: `admin` or `system`).
pub static REFUNDS_STARTED: Metric<1> = Metric {
    name: "RefundsStarted",
    dimensions: ["RequestedBy"],
    rollup: false,
    concern: Concern::Other,
};

/// A refund Paystack could not pay back, by `Status` (`failed` or `needs_attention`), and in all:
/// the customer has not got their money and someone must act.
pub static REFUNDS_STUCK: Metric<1> = Metric {
    name: "RefundsStuck",
    dimensions: ["Status"],
    rollup: true,
    concern: Concern::Money,
};

/// A signed webhook acknowledged without acting on it, by `Reason` (`domain`: a live event
/// reaching a test deployment or the reverse).
pub static WEBHOOKS_IGNORED: Metric<1> = Metric {
    name: "WebhooksIgnored",
    dimensions: ["Reason"],
    rollup: false,
    concern: Concern::Other,
};

/// A signed `charge.success` whose transaction could not be read: acknowledged (Paystack's retries
/// would meet the same parser) and left to reconciliation; someone must look at the log.
pub static CHARGES_UNREADABLE: Metric<0> = Metric {
    name: "ChargesUnreadable",
    dimensions: [],
    rollup: false,
    concern: Concern::Money,
};

/// A dispute (chargeback) opened on a charge: the kitchen must answer it on Paystack before it
/// is due, or the money goes back to the customer's bank.
pub static DISPUTES_OPENED: Metric<0> = Metric {
    name: "DisputesOpened",
    dimensions: [],
    rollup: false,
    concern: Concern::Money,
};

/// Every metric above.
pub static REGISTRY: [Declared; 15] = [
    SERVER_ERRORS.declared(),
    ORDERS_PLACED.declared(),
    PAYMENTS_SUCCEEDED.declared(),
    PAYMENTS_REFUND_DUE.declared(),
    PAYMENTS_MISMATCHED.declared(),
    WEBHOOKS_REJECTED.declared(),
    SMS_SENT.declared(),
    SMS_FAILED.declared(),
    EVENT_PUBLISH_FAILED.declared(),
    EMAIL_FAILED.declared(),
    REFUNDS_STARTED.declared(),
    REFUNDS_STUCK.declared(),
    WEBHOOKS_IGNORED.declared(),
    CHARGES_UNREADABLE.declared(),
    DISPUTES_OPENED.declared(),
];

/// Metrics go to stdout, which a test cannot read in-process: a test runs itself again in a child
/// process (the same test binary, that test alone) and reads the EMF lines the child printed.
#[cfg(test)]
pub(crate) mod captured {
    use serde_json::Value;

    const CHILD: &str = "KITCHEN_METRICS_TEST_CHILD";

    /// Whether this is the child run, which does what the test counts.
    pub fn in_child() -> bool {
        std::env::var_os(CHILD).is_some()
    }

    /// The EMF lines the test `name` (its path in the crate, `http::tests::…`) printed, run in a
    /// child process.
    pub fn counted_by(name: &str) -> Vec<Value> {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        assert!(stdout.contains("1 passed"), "{name} did not run: {stdout}");
        // The harness may print a test's name on the line the test's first output continues.
        stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(&line[line.find('{')?..]).ok())
            .filter(|line| line.get("_aws").is_some())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_count_is_a_valid_emf_document() {
        let line = ORDERS_PLACED.count_line(["customer"]);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Kitchen");
        assert_eq!(directive["Dimensions"], json!([["Service", "PlacedBy"]]));
        assert_eq!(line["Service"], "kitchen-api");
        assert_eq!(directive["Metrics"][0]["Name"], "OrdersPlaced");
        assert_eq!(line["OrdersPlaced"], 1);
        assert_eq!(line["PlacedBy"], "customer");
        assert!(line["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    }

    #[test]
    fn a_rolled_up_metric_is_also_published_under_service_alone() {
        let line = SMS_FAILED.count_line(["kitchen", "order.paid"]);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service", "Recipient", "EventType"], ["Service"]])
        );
        assert_eq!(line["Recipient"], "kitchen");
        assert_eq!(line["EventType"], "order.paid");
    }

    #[test]
    fn a_metric_without_dimensions_has_service_alone() {
        let line = PAYMENTS_MISMATCHED.count_line([]);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service"]])
        );
        assert_eq!(line["PaymentsMismatched"], 1);
    }

    #[test]
    fn the_registry_lists_every_metric_declared_here() {
        let declared = include_str!("metrics.rs")
            .lines()
            .filter(|line| line.starts_with("pub static ") && line.contains(": Metric<"))
            .count();
        assert_eq!(declared, REGISTRY.len());
    }

    #[test]
    fn the_registry_names_each_metric_once() {
        let mut names: Vec<&str> = REGISTRY.iter().map(|metric| metric.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "{names:?}");
    }
}
