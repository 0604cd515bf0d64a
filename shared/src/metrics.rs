//! Business metrics as CloudWatch embedded-metric-format (EMF) lines: one JSON object printed to
//! stdout, which Lambda's log capture turns into a metric in the `Kitchen` namespace, with no API
//! call and no extra latency.

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "Kitchen";

/// Every metric carries this dimension, so none has an empty dimension set.
const SERVICE: (&str, &str) = ("Service", "kitchen-api");

/// The EMF line counting one `metric`, with its dimensions.
pub fn count_line(metric: &str, dimensions: &[(&str, &str)]) -> Value {
    let timestamp = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let dimensions: Vec<(&str, &str)> = std::iter::once(SERVICE)
        .chain(dimensions.iter().copied())
        .collect();
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        }),
    );
    for (name, value) in &dimensions {
        line.insert((*name).into(), Value::String((*value).into()));
    }
    line.insert(metric.into(), json!(1));
    Value::Object(line)
}

/// Counts one `metric` (e.g. `OrdersPlaced`), printed as an EMF line.
pub fn count(metric: &str, dimensions: &[(&str, &str)]) {
    println!("{}", count_line(metric, dimensions));
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_count_is_a_valid_emf_document() {
        let line = super::count_line("OrdersPlaced", &[("PlacedBy", "customer")]);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Kitchen");
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["Service", "PlacedBy"]])
        );
        assert_eq!(line["Service"], "kitchen-api");
        assert_eq!(directive["Metrics"][0]["Name"], "OrdersPlaced");
        assert_eq!(line["OrdersPlaced"], 1);
        assert_eq!(line["PlacedBy"], "customer");
        assert!(line["_aws"]["Timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    }
}
