//! The lists the kitchen works from (`kitchen::app::kitchen_lists`): the day's production list and
//! the sales report, as JSON or, asked with `Accept: text/csv`, as RFC 4180 CSV that a spreadsheet
//! opens as it is (a header row, CRLF line ends, UTF-8 with a byte-order mark, money in naira with
//! two decimals).

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use kitchen::{
    ApiError,
    app::kitchen_lists::{PrepList, ReportRange, SalesReport, SalesTotals},
    domain::Date,
    http::extract::{Query, StaffBeside},
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrepQuery {
    date: Date,
}

/// What to cook on `date`, and for whom.
pub async fn prep(
    staff: StaffBeside,
    Query(query): Query<PrepQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let orders = staff.state.orders();
    let list = staff
        .read(|claim| orders.prep_list(claim, query.date))
        .await?;
    Ok(match wants(&headers) {
        Format::Json => json(list),
        Format::Csv => csv(
            &format!("prep-{}.csv", list.date),
            prep_rows(&list).map_err(ApiError::internal)?,
        ),
    })
}

/// Takings, refunds and best sellers of the delivery days `from` to `to`.
pub async fn sales(
    staff: StaffBeside,
    Query(range): Query<ReportRange>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let orders = staff.state.orders();
    let report = staff
        .read(|claim| orders.sales_report(claim, range))
        .await?;
    Ok(match wants(&headers) {
        Format::Json => json(report),
        Format::Csv => csv(
            &format!("sales-{}-to-{}.csv", report.from, report.to),
            sales_rows(&report).map_err(ApiError::internal)?,
        ),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// CSV when the `Accept` header prefers `text/csv` to JSON (by its quality values; a tie goes to
/// the more specific range, then to JSON); JSON otherwise, also without the header.
fn wants(headers: &HeaderMap) -> Format {
    let (mut csv, mut json) = ((0.0_f32, 0), (0.0_f32, 0));
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for range in value.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            // How specific the range is: `*/*` 1, `text/*` 2, `text/csv` 3.
            let (for_csv, for_json) = match media.as_str() {
                "text/csv" => (3, 0),
                "text/*" => (2, 0),
                "application/json" => (0, 3),
                "application/*" => (0, 2),
                "*/*" => (1, 1),
                _ => (0, 0),
            };
            if for_csv > csv.1 {
                csv = (quality, for_csv);
            }
            if for_json > json.1 {
                json = (quality, for_json);
            }
        }
    }
    if csv.0 > 0.0 && (csv.0, csv.1) > (json.0, json.1) {
        Format::Csv
    } else {
        Format::Json
    }
}

/// The JSON answer; it depends on `Accept`, so caches must keep the two apart.
fn json<T: serde::Serialize>(body: T) -> Response {
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// The CSV answer, offered for download as `filename`.
fn csv(filename: &str, body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

/// A CSV writer as RFC 4180 has it (CRLF, quotes only where needed), after a UTF-8 byte-order mark:
/// without one, a spreadsheet reads the file in its local code page and garbles accented names.
fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer("\u{feff}".as_bytes().to_vec())
}

/// Text a person typed, made safe to open in a spreadsheet: a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be read as a formula, so it is led by an apostrophe (a
/// phone number, `+234…`, too: as a formula it would become a number in scientific notation).
fn text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// One row per line of each order: the day's orders and what each holds, with its customer.
fn prep_rows(list: &PrepList) -> Result<Vec<u8>, csv::Error> {
    let mut out = writer();
    out.write_record([
        "order_id",
        "status",
        "customer_name",
        "customer_phone",
        "delivery_address",
        "dish_id",
        "dish_name",
        "quantity",
        "note",
    ])?;
    for order in &list.orders {
        for line in &order.items {
            out.write_record([
                order.id.to_string(),
                order.status.as_str().to_string(),
                text(order.customer.name.as_deref().unwrap_or_default()),
                text(order.customer.phone.as_ref().map_or("", |p| p.as_str())),
                text(order.delivery_address.as_str()),
                line.dish_id.to_string(),
                text(&line.dish_name),
                line.quantity.get().to_string(),
                text(order.note.as_ref().map_or("", |n| n.as_str())),
            ])?;
        }
    }
    out.into_inner().map_err(|err| err.into_error().into())
}

/// One row per day, then a `total` row.
fn sales_rows(report: &SalesReport) -> Result<Vec<u8>, csv::Error> {
    let mut out = writer();
    out.write_record(["date", "orders_paid", "revenue", "refunded", "net"])?;
    let row = |label: String, sales: &SalesTotals| {
        [
            label,
            sales.orders_paid.to_string(),
            sales.revenue.decimal(),
            sales.refunded.decimal(),
            sales.net.decimal(),
        ]
    };
    for day in &report.days {
        out.write_record(row(day.date.to_string(), &day.sales))?;
    }
    out.write_record(row("total".to_string(), &report.totals))?;
    out.into_inner().map_err(|err| err.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Format {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        wants(&headers)
    }

    #[test]
    fn csv_is_answered_only_when_preferred_to_json() {
        assert_eq!(wants(&HeaderMap::new()), Format::Json);
        assert_eq!(accept("text/csv"), Format::Csv);
        assert_eq!(accept("text/csv, */*;q=0.1"), Format::Csv);
        assert_eq!(accept("TEXT/CSV;charset=utf-8"), Format::Csv);
        assert_eq!(accept("text/*"), Format::Csv);
        assert_eq!(accept("*/*"), Format::Json);
        assert_eq!(accept("application/json"), Format::Json);
        assert_eq!(accept("application/json, text/csv"), Format::Json);
        assert_eq!(accept("text/csv;q=0.5, application/json"), Format::Json);
        assert_eq!(accept("text/csv;q=0"), Format::Json);
        assert_eq!(accept("application/json;q=0.2, text/csv"), Format::Csv);
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_as_a_formula_is_led_by_an_apostrophe() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("+2348012345678"), "'+2348012345678");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("No pepper, please"), "No pepper, please");
    }
}
