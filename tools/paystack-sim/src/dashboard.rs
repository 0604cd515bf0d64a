//! `GET /_sim`: the developer's page — every transaction, what is left to refund, its refunds and
//! its dispute, with buttons for what Paystack's dashboard (and its processors) would do next.
//!
//! Self-contained like the checkout page: no external assets, everything shown escaped, and a
//! Content-Security-Policy that only lets this page's own inline style and script (by nonce) run
//! and only lets it talk to the simulator itself. The buttons call the `/_sim` routes: Refund is
//! `POST /_sim/transactions/{reference}/refund` (the same refund `POST /refund` makes, with its
//! `refund.pending` webhook), and each refund's steps are `POST /_sim/refunds/{id}/{step}`.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::response::{Html, IntoResponse, Response};

use crate::checkout::{display_amount, escape};
use crate::refund::{RefundStatus, RefundView};
use crate::state::{SimState, random_code};
use crate::transaction::{TransactionStatus, TransactionView};

/// The steps a refund may be moved to from the page, in button order.
const STEPS: [RefundStatus; 4] = [
    RefundStatus::Processing,
    RefundStatus::Processed,
    RefundStatus::Failed,
    RefundStatus::NeedsAttention,
];

pub async fn page(State(state): State<SimState>) -> Response {
    let nonce = random_code(24);
    let csp = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; \
         connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    );
    let html = render(&state.transactions(), &state.webhook_url(), &nonce);
    (
        [
            (CONTENT_SECURITY_POLICY, csp),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        Html(html),
    )
        .into_response()
}

fn render(transactions: &[TransactionView], webhook_url: &str, nonce: &str) -> String {
    let rows: String = if transactions.is_empty() {
        "<tr><td colspan=\"6\" class=\"empty\">No transactions yet: initialize one with \
         <code>POST /transaction/initialize</code>.</td></tr>"
            .to_owned()
    } else {
        // Newest first: the one just made is the one wanted.
        transactions.iter().rev().map(transaction_row).collect()
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Transactions · Paystack simulator</title>
<style nonce="{nonce}">
  body {{ font-family: system-ui, sans-serif; background: #f3f5f7; margin: 0; padding: 1.5rem 1rem; color: #1c2430; }}
  main {{ max-width: 72rem; margin: 0 auto; background: #fff; border-radius: 12px; padding: 1.25rem 1.5rem; box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
  .tag {{ font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: #8a94a6; margin: 0; }}
  h1 {{ font-size: 1.5rem; margin: .3rem 0 .5rem; }}
  table {{ width: 100%; border-collapse: collapse; font-size: .92rem; }}
  th, td {{ text-align: left; vertical-align: top; padding: .5rem .4rem; border-top: 1px solid #e6e9ee; }}
  th {{ color: #8a94a6; font-weight: 500; }}
  td.empty {{ color: #8a94a6; }}
  ul {{ list-style: none; margin: 0; padding: 0; }}
  li + li {{ margin-top: .35rem; }}
  .status {{ font-family: ui-monospace, monospace; }}
  button {{ font-size: .85rem; padding: .25rem .6rem; border: 0; border-radius: 6px; cursor: pointer; color: #fff; background: #0ba4db; margin: .1rem .15rem .1rem 0; }}
  button.warn {{ background: #d9534f; }}
  button.quiet {{ background: #8a94a6; }}
  button:disabled {{ opacity: .5; cursor: default; }}
  #result {{ min-height: 1.5em; }}
</style>
</head>
<body>
<main>
<p class="tag">Paystack simulator · test mode</p>
<h1>Transactions</h1>
<p>Webhooks go to <code id="webhook-url">{webhook_url}</code>. As JSON: <a href="/_sim/transactions">/_sim/transactions</a>, <a href="/_sim/refunds">/_sim/refunds</a>.</p>
<p id="result" role="status"></p>
<table>
<thead><tr><th>Reference</th><th>Customer</th><th>Amount</th><th>Status</th><th>Refunds</th><th>Dispute</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</main>
<script nonce="{nonce}">
(() => {{
  const result = document.getElementById("result");
  document.querySelectorAll("button[data-post]").forEach((button) => {{
    button.addEventListener("click", async () => {{
      document.querySelectorAll("button").forEach((b) => {{ b.disabled = true; }});
      result.textContent = "Sending…";
      try {{
        const response = await fetch(button.dataset.post, {{ method: "POST" }});
        const body = await response.json().catch(() => ({{}}));
        if (!response.ok) {{
          result.textContent = body.message || body.error || ("The simulator answered " + response.status);
          document.querySelectorAll("button").forEach((b) => {{ b.disabled = false; }});
          return;
        }}
        window.location.reload();
      }} catch (error) {{
        result.textContent = "Request failed: " + error;
        document.querySelectorAll("button").forEach((b) => {{ b.disabled = false; }});
      }}
    }});
  }});
}})();
</script>
</body>
</html>
"#,
        webhook_url = escape(webhook_url),
    )
}

fn transaction_row(transaction: &TransactionView) -> String {
    let reference = escape(&transaction.reference);
    // References hold only letters, digits, `-`, `.` and `=`, which a path takes as they are.
    let base = format!("/_sim/transactions/{reference}");
    let paid = transaction.status.is_paid();
    let status = match transaction.status {
        TransactionStatus::Abandoned | TransactionStatus::Failed => format!(
            "<span class=\"status\">{}</span> <a href=\"{}\">checkout</a>",
            transaction.status.as_str(),
            escape(&transaction.authorization_url)
        ),
        _ => format!(
            "<span class=\"status\">{}</span>",
            transaction.status.as_str()
        ),
    };
    let mut refunds: String = transaction
        .refunds
        .iter()
        .map(|refund| refund_item(refund, &transaction.currency))
        .collect();
    if transaction.status == TransactionStatus::Success && transaction.refundable > 0 {
        refunds.push_str(&format!(
            "<li><button type=\"button\" class=\"warn\" data-post=\"{base}/refund\">Refund {}</button></li>",
            escape(&display_amount(transaction.refundable, &transaction.currency))
        ));
    }
    let dispute = match &transaction.dispute {
        Some(dispute) if dispute.resolved_at.is_none() => format!(
            "<span class=\"status\">{}</span><br>\
             <button type=\"button\" class=\"quiet\" data-post=\"{base}/dispute/remind\">Remind</button>\
             <button type=\"button\" data-post=\"{base}/dispute/resolve\">Resolve (declined)</button>",
            dispute.status.as_str()
        ),
        Some(dispute) => format!(
            "<span class=\"status\">resolved: {}</span>",
            dispute.resolution.map_or("", |r| r.as_str())
        ),
        None if paid => {
            format!(
                "<button type=\"button\" class=\"quiet\" data-post=\"{base}/dispute\">Open dispute</button>"
            )
        }
        None => String::new(),
    };
    format!(
        "<tr data-reference=\"{reference}\"><td><code>{reference}</code></td><td>{email}</td>\
         <td>{amount}</td><td>{status}</td><td><ul>{refunds}</ul></td><td>{dispute}</td></tr>\n",
        email = escape(&transaction.email),
        amount = escape(&display_amount(transaction.amount, &transaction.currency)),
    )
}

fn refund_item(refund: &RefundView, currency: &str) -> String {
    let buttons: String = STEPS
        .into_iter()
        .filter(|step| refund.status.may_become(*step))
        .map(|step| {
            let class = match step {
                RefundStatus::Failed | RefundStatus::NeedsAttention => " class=\"warn\"",
                _ => "",
            };
            format!(
                "<button type=\"button\"{class} data-post=\"/_sim/refunds/{id}/{step}\">{step}</button>",
                id = refund.id,
                step = step.as_str(),
            )
        })
        .collect();
    format!(
        "<li data-refund=\"{id}\">#{id} {amount} <span class=\"status\">{status}</span> {buttons}</li>",
        id = refund.id,
        amount = escape(&display_amount(refund.amount, currency)),
        status = refund.status.as_str(),
    )
}
