//! `GET /checkout/{access_code}`: where `authorization_url` sends the customer.
//!
//! A self-contained page (no external assets) showing what is being paid, with a Pay button
//! (`POST /_sim/transactions/{reference}/succeed`) and a Fail button (`…/fail`). Afterwards it
//! offers the way back to the merchant as Paystack does: `callback_url` with `trxref` and
//! `reference` appended, followed automatically after a successful payment.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::state::SimState;
use crate::transaction::{TransactionStatus, TransactionView};

pub async fn page(State(state): State<SimState>, Path(access_code): Path<String>) -> Response {
    match state.transaction_by_access_code(&access_code) {
        Some(transaction) => Html(render(&transaction)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(format!(
                "<!doctype html><meta charset=\"utf-8\"><title>Not found</title>\
                 <p>No transaction has access code <code>{}</code>.</p>",
                escape(&access_code)
            )),
        )
            .into_response(),
    }
}

fn render(transaction: &TransactionView) -> String {
    let amount = display_amount(transaction.amount, &transaction.currency);
    let back = transaction
        .callback_url
        .as_deref()
        .map(|url| return_url(url, &transaction.reference))
        .unwrap_or_default();
    let paid = transaction.status == TransactionStatus::Success;
    let disabled = if paid { " disabled" } else { "" };
    let back_hidden = if paid && !back.is_empty() {
        ""
    } else {
        " hidden"
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checkout · Paystack simulator</title>
<style>
  body {{ font-family: system-ui, sans-serif; background: #f3f5f7; margin: 0; padding: 2rem 1rem; color: #1c2430; }}
  main {{ max-width: 26rem; margin: 0 auto; background: #fff; border-radius: 12px; padding: 1.5rem 1.75rem; box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
  .tag {{ font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: #8a94a6; margin: 0; }}
  h1 {{ font-size: 2rem; margin: .4rem 0 1rem; }}
  dl {{ display: grid; grid-template-columns: auto 1fr; gap: .35rem 1rem; margin: 0 0 1.25rem; }}
  dt {{ color: #8a94a6; }}
  dd {{ margin: 0; word-break: break-all; }}
  .actions {{ display: flex; gap: .75rem; }}
  button {{ flex: 1; font-size: 1rem; padding: .7rem; border: 0; border-radius: 8px; cursor: pointer; color: #fff; }}
  button:disabled {{ opacity: .5; cursor: default; }}
  #pay {{ background: #0ba4db; }}
  #fail {{ background: #d9534f; }}
  #result {{ min-height: 1.5em; }}
</style>
</head>
<body data-reference="{reference}" data-callback="{back}">
<main>
<p class="tag">Paystack simulator · test mode</p>
<h1 id="amount">{amount}</h1>
<dl>
  <dt>Email</dt><dd id="email">{email}</dd>
  <dt>Reference</dt><dd id="reference">{reference}</dd>
  <dt>Status</dt><dd id="status">{status}</dd>
</dl>
<div class="actions">
  <button id="pay" type="button"{disabled}>Pay {amount}</button>
  <button id="fail" type="button"{disabled}>Fail</button>
</div>
<p id="result" role="status"></p>
<p id="return"{back_hidden}><a id="return-link" href="{back}">Return to merchant</a></p>
</main>
<script>
(() => {{
  const reference = document.body.dataset.reference;
  const back = document.body.dataset.callback;
  const buttons = [document.getElementById("pay"), document.getElementById("fail")];
  const result = document.getElementById("result");
  const status = document.getElementById("status");
  const returnBox = document.getElementById("return");
  const enable = (on) => buttons.forEach((b) => {{ b.disabled = !on; }});

  async function act(kind) {{
    enable(false);
    result.textContent = kind === "succeed" ? "Paying…" : "Declining…";
    try {{
      const response = await fetch("/_sim/transactions/" + encodeURIComponent(reference) + "/" + kind, {{ method: "POST" }});
      const body = await response.json().catch(() => ({{}}));
      if (!response.ok) {{
        result.textContent = body.error || ("The simulator answered " + response.status);
        enable(true);
        return;
      }}
      if (kind === "succeed") {{
        status.textContent = "success";
        const hook = body.webhook_status === null ? "no answer (unreachable)" : "HTTP " + body.webhook_status;
        result.textContent = "Payment successful. Webhook: " + hook + ".";
      }} else {{
        status.textContent = "failed";
        result.textContent = "Payment declined. Paystack sends no webhook for a failed charge.";
        enable(true);
      }}
      if (back) {{
        returnBox.hidden = false;
        if (kind === "succeed") setTimeout(() => {{ window.location.href = back; }}, 1500);
      }}
    }} catch (error) {{
      result.textContent = "Request failed: " + error;
      enable(true);
    }}
  }}

  buttons[0].addEventListener("click", () => act("succeed"));
  buttons[1].addEventListener("click", () => act("fail"));
}})();
</script>
</body>
</html>
"#,
        reference = escape(&transaction.reference),
        back = escape(&back),
        amount = escape(&amount),
        email = escape(&transaction.email),
        status = transaction.status.as_str(),
    )
}

/// `callback_url?trxref=<ref>&reference=<ref>`, keeping any query and fragment the URL has.
pub(crate) fn return_url(callback_url: &str, reference: &str) -> String {
    let (base, fragment) = match callback_url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (callback_url, None),
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("trxref", reference)
        .append_pair("reference", reference)
        .finish();
    let separator = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    match fragment {
        Some(fragment) => format!("{base}{separator}{query}#{fragment}"),
        None => format!("{base}{separator}{query}"),
    }
}

/// Subunits as a price: `150000` NGN → `₦1,500.00`.
pub(crate) fn display_amount(amount: u64, currency: &str) -> String {
    let major = amount / 100;
    let minor = amount % 100;
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match currency {
        "NGN" => format!("₦{grouped}.{minor:02}"),
        "GHS" => format!("GH₵{grouped}.{minor:02}"),
        "ZAR" => format!("R{grouped}.{minor:02}"),
        "USD" => format!("${grouped}.{minor:02}"),
        "KES" => format!("KSh {grouped}.{minor:02}"),
        other => format!("{other} {grouped}.{minor:02}"),
    }
}

pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_in_major_units_with_separators() {
        assert_eq!(display_amount(150_000, "NGN"), "₦1,500.00");
        assert_eq!(display_amount(5, "NGN"), "₦0.05");
        assert_eq!(display_amount(123_456_789, "NGN"), "₦1,234,567.89");
        assert_eq!(display_amount(1999, "USD"), "$19.99");
    }

    #[test]
    fn return_url_appends_trxref_and_reference() {
        assert_eq!(
            return_url("http://127.0.0.1:5173/paid", "ord-1"),
            "http://127.0.0.1:5173/paid?trxref=ord-1&reference=ord-1"
        );
        assert_eq!(
            return_url("https://x.test/r?order=7#top", "a=b"),
            "https://x.test/r?order=7&trxref=a%3Db&reference=a%3Db#top"
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
