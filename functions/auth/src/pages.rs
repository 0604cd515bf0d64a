//! The two small HTML pages an account email's link opens: the answer to a verification link, and
//! the form a reset link shows. Nothing a request carries is written into a page except the reset
//! token, and only once it has parsed as one of ours (URL-safe characters only). Every page is
//! `no-store` (it is about a one-time token), sends no referrer (the token is in its address), and
//! may not be framed; the form's one script is allowed by its hash, and may only talk to this API.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}\
input{display:block;width:100%;padding:.5rem;margin:.25rem 0 1rem;box-sizing:border-box}\
button{padding:.5rem 1rem}";

/// Posts the form as the API's JSON and says how it went.
const RESET_SCRIPT: &str = r#"
const form = document.getElementById("reset");
const message = document.getElementById("message");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (form.password.value !== form.confirm.value) {
    message.textContent = "The two passwords are not the same.";
    return;
  }
  message.textContent = "Saving…";
  try {
    const answer = await fetch(location.pathname, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: form.token.value, new_password: form.password.value}),
    });
    if (answer.status === 204) {
      form.hidden = true;
      message.textContent = "Your password is changed, and you are signed out everywhere. Sign in with the new password.";
      return;
    }
    const problem = await answer.json().catch(() => ({}));
    message.textContent = problem.detail || "That did not work; try again.";
  } catch (error) {
    message.textContent = "The server could not be reached; try again.";
  }
});
"#;

/// The CSP source that allows [`RESET_SCRIPT`] and nothing else.
static RESET_SCRIPT_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(RESET_SCRIPT.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

fn page(status: StatusCode, title: &str, body: &str, script: Option<&str>) -> Response {
    let script_tag = script
        .map(|s| format!("<script>{s}</script>"))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><h1>{title}</h1>{body}{script_tag}</body></html>\n"
    );
    let script_src = match script {
        Some(_) => RESET_SCRIPT_HASH.as_str(),
        None => "'none'",
    };
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src {script_src}; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

pub fn email_verified() -> Response {
    page(
        StatusCode::OK,
        "Email confirmed",
        "<p>Thank you: your email address is confirmed. You can close this page and order in the app.</p>",
        None,
    )
}

pub fn verification_link_bad() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "This link does not work",
        "<p>This confirmation link is wrong, already used, or more than 48 hours old.</p>\
         <p>Sign in to the app and ask for a new confirmation email.</p>",
        None,
    )
}

pub fn reset_link_bad() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "This link does not work",
        "<p>This password reset link is wrong, already used, or more than 30 minutes old.</p>\
         <p>Ask for a new one from the app's “Forgot password” screen.</p>",
        None,
    )
}

/// The answer when the table (or another dependency) is down: try the link again shortly.
pub fn unavailable() -> Response {
    let mut response = page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "<p>We could not check this link just now. Open it again in a minute.</p>",
        None,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    response
}

/// The form a working reset link shows. `token` has parsed as one of ours, so it holds only
/// URL-safe characters and needs no escaping in an attribute.
pub fn reset_form(token: &str) -> Response {
    debug_assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    );
    let body = format!(
        "<form id=\"reset\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label>New password (8 to 128 characters)\
         <input type=\"password\" name=\"password\" minlength=\"8\" maxlength=\"128\" autocomplete=\"new-password\" required></label>\
         <label>The same again\
         <input type=\"password\" name=\"confirm\" minlength=\"8\" maxlength=\"128\" autocomplete=\"new-password\" required></label>\
         <button type=\"submit\">Set the new password</button></form>\
         <p id=\"message\" role=\"status\"></p>"
    );
    page(
        StatusCode::OK,
        "Choose a new password",
        &body,
        Some(RESET_SCRIPT),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_page_allows_exactly_its_own_script() {
        let response = reset_form("01J0000000000000000000000A.abc_-");
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string();
        let script_src = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert_eq!(
            script_src,
            format!("script-src {}", RESET_SCRIPT_HASH.as_str())
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    }

    #[test]
    fn a_page_without_a_script_allows_none() {
        let response = email_verified();
        let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(policy.contains("script-src 'none'"), "{policy}");
    }
}
