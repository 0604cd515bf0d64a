//! The notifier function: order events from the SNS topic become SMS to customers. Until that is
//! built it logs each record it receives and sends nothing.

use serde_json::Value;

/// Logs the event type of each SNS record in `event`; returns how many records there were.
pub fn log_records(event: &Value) -> usize {
    let records = event["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for record in records {
        let event_type = record["Sns"]["MessageAttributes"]["event_type"]["Value"]
            .as_str()
            .unwrap_or("unknown");
        tracing::info!(
            event_type,
            "order event received; SMS sending is not built yet"
        );
    }
    records.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_record_of_the_sample_event_is_seen() {
        let event: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/notifier/order-placed.json"))
                .unwrap();
        assert_eq!(super::log_records(&event), 1);
    }
}
