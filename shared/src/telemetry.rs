//! Structured JSON logs, one object a line, as CloudWatch Logs Insights reads them.
//!
//! A line has `timestamp`, `level`, the event's fields (`message` among them) at the top level and,
//! inside an invocation, `request_id` and `trace_id`: lambda_runtime opens a span per invocation
//! ("Lambda runtime invoke", fields `requestId` and `xrayTraceId`), and [`InvocationIds`] lifts its
//! ids onto every line logged within it, however deep, so that `filter request_id = "…"` finds all
//! of an invocation's lines, not only its request line. Each line also names its `function`
//! (Lambda's `AWS_LAMBDA_FUNCTION_NAME`), so that the lines of several functions read in one stream
//! (`make dev`, a query over several log groups) say whose they are. Other span fields are left out.

use serde::ser::{SerializeMap, Serializer as _};
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// The field names lambda_runtime gives its invocation span (`layers::trace::request_span`).
const RUNTIME_REQUEST_ID: &str = "requestId";
const RUNTIME_TRACE_ID: &str = "xrayTraceId";

/// Installs the JSON log subscriber on stdout (level from `RUST_LOG`, default `info`). Safe to call
/// twice.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok();
    let _ = tracing::subscriber::set_global_default(subscriber(filter, function, std::io::stdout));
}

/// The subscriber [`init`] installs, writing to `writer`, for tests that read what it writes.
pub fn subscriber<W>(
    filter: EnvFilter,
    function: Option<String>,
    writer: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer()
        .event_format(JsonLine { function })
        .with_writer(writer);
    tracing_subscriber::registry()
        .with(filter)
        .with(InvocationIds)
        .with(lines)
}

/// Keeps what a [`subscriber`] writes, for tests that read the log lines.
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Makes the subscriber [`init`] installs (at `info`, for `function`) the current thread's
    /// until the guard is dropped, writing into the `Captured` returned.
    pub fn install(function: Option<&str>) -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let subscriber = subscriber(
            EnvFilter::new("info"),
            function.map(str::to_string),
            captured.clone(),
        );
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Every line written so far, each parsed as JSON.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'writer> MakeWriter<'writer> for Captured {
    type Writer = Captured;

    fn make_writer(&'writer self) -> Self::Writer {
        self.clone()
    }
}

/// The ids of the invocation a span belongs to, kept in the span's extensions.
#[derive(Debug, Default)]
struct Invocation {
    request_id: Option<String>,
    trace_id: Option<String>,
}

impl Visit for Invocation {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            RUNTIME_REQUEST_ID => self.request_id = Some(value.to_string()),
            RUNTIME_TRACE_ID => self.trace_id = Some(value.to_string()),
            _ => {}
        }
    }

    /// A `%value` field arrives here, printing its Display.
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if matches!(field.name(), RUNTIME_REQUEST_ID | RUNTIME_TRACE_ID) {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

/// Keeps the ids of every span that has them (lambda_runtime's, in practice) in its extensions.
struct InvocationIds;

impl<S> Layer<S> for InvocationIds
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut ids = Invocation::default();
        attributes.record(&mut ids);
        if ids.request_id.is_some()
            && let Some(span) = context.span(id)
        {
            span.extensions_mut().insert(ids);
        }
    }
}

/// One JSON object a line: timestamp, level, the event's fields, function and invocation ids.
struct JsonLine {
    function: Option<String>,
}

impl JsonLine {
    fn serialize<S, N>(
        &self,
        context: &FmtContext<'_, S, N>,
        event: &Event<'_>,
        line: &mut Vec<u8>,
    ) -> Result<(), serde_json::Error>
    where
        S: Subscriber + for<'lookup> LookupSpan<'lookup>,
        N: for<'writer> FormatFields<'writer> + 'static,
    {
        let mut timestamp = String::new();
        // Writing into a String cannot fail.
        let _ = SystemTime.format_time(&mut Writer::new(&mut timestamp));
        let mut serializer = serde_json::Serializer::new(line);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", &timestamp)?;
        map.serialize_entry("level", event.metadata().level().as_str())?;
        let mut fields = tracing_serde::SerdeMapVisitor::new(map);
        event.record(&mut fields);
        let mut map = fields.take_serializer()?;
        if let Some(function) = &self.function {
            map.serialize_entry("function", function)?;
        }
        // The innermost span with ids wins; an invocation's spans nest inside lambda_runtime's.
        let mut scope = context.event_scope().into_iter().flatten();
        if let Some(span) = scope.find(|span| span.extensions().get::<Invocation>().is_some()) {
            let extensions = span.extensions();
            let ids = extensions.get::<Invocation>().expect("found above");
            map.serialize_entry("request_id", &ids.request_id)?;
            if let Some(trace_id) = &ids.trace_id {
                map.serialize_entry("trace_id", trace_id)?;
            }
        }
        map.end()
    }
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Vec::with_capacity(256);
        self.serialize(context, event, &mut line)
            .map_err(|_| fmt::Error)?;
        writer.write_str(std::str::from_utf8(&line).map_err(|_| fmt::Error)?)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::lambda_runtime::{Context as LambdaContext, layers::trace::request_span};
    use serde_json::Value;

    /// Runs `body` under the subscriber [`init`] installs, returning the lines it wrote.
    fn logged(body: impl FnOnce()) -> Vec<Value> {
        let (captured, guard) = Captured::install(Some("orders"));
        body();
        drop(guard);
        captured.lines()
    }

    fn invocation(trace_id: Option<&str>) -> LambdaContext {
        let mut context = LambdaContext::default();
        context.request_id = "8f1e2d3c-0000-4000-8000-000000000001".into();
        context.xray_trace_id = trace_id.map(str::to_string);
        context
    }

    #[test]
    fn every_line_inside_lambda_runtimes_invocation_span_carries_its_ids() {
        let trace = "Root=1-65f0c0de-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
        let lines = logged(|| {
            let _invocation = request_span(&invocation(Some(trace))).entered();
            tracing::info!(order_id = "01J", total = 350_000, "order placed");
            // A span of our own (or the SDK's) inside the invocation does not hide its ids.
            let _inner = tracing::info_span!("record", reference = "k_1").entered();
            tracing::warn!(error = %"throttled", "retrying");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in &lines {
            assert_eq!(line["request_id"], "8f1e2d3c-0000-4000-8000-000000000001");
            assert_eq!(line["trace_id"], trace);
            assert_eq!(line["function"], "orders");
            assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["message"], "order placed");
        assert_eq!(lines[0]["order_id"], "01J");
        assert_eq!(lines[0]["total"], 350_000);
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["error"], "throttled");
        assert!(lines[1].get("reference").is_none(), "span fields stay out");
    }

    #[test]
    fn an_invocation_without_a_trace_has_its_request_id_alone() {
        let lines = logged(|| {
            let _invocation = request_span(&invocation(None)).entered();
            tracing::info!("request");
        });
        assert_eq!(
            lines[0]["request_id"],
            "8f1e2d3c-0000-4000-8000-000000000001"
        );
        assert!(lines[0].get("trace_id").is_none(), "{lines:?}");
    }

    #[test]
    fn a_line_outside_any_invocation_has_no_ids() {
        let lines = logged(|| tracing::info!(port = 9000, "listening"));
        assert_eq!(lines[0]["message"], "listening");
        assert_eq!(lines[0]["port"], 9000);
        assert!(lines[0].get("request_id").is_none(), "{lines:?}");
    }

    #[test]
    fn the_filter_holds_back_what_is_below_its_level() {
        let lines = logged(|| {
            tracing::debug!("detail");
            tracing::error!("failed");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["level"], "ERROR");
    }
}
