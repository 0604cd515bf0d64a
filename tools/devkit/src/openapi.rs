//! Every response a test receives is checked against the OpenAPI document: a documented route must
//! answer only statuses the document lists, with a body its schema accepts. So the document cannot
//! drift from what the functions really send.

use http::Method;
use jsonschema::Validator;
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = crate::repo_root().join("openapi/openapi.json");
        let text = std::fs::read_to_string(&path).expect("openapi/openapi.json is readable");
        serde_json::from_str(&text).expect("openapi/openapi.json is JSON")
    })
}

fn validators() -> &'static Mutex<HashMap<String, Arc<Validator>>> {
    static VALIDATORS: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    VALIDATORS.get_or_init(Default::default)
}

/// JSON Pointer escaping of one reference token, percent-encoded for a URI fragment.
fn escape(token: &str) -> String {
    token
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// The documented path template that `path` matches, preferring literal segments over parameters.
fn template_for(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let paths = document()["paths"].as_object()?;
    let mut best: Option<(&str, usize)> = None;
    for template in paths.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let matches = parts.iter().zip(&segments).all(|(part, segment)| {
            if part.starts_with('{') {
                !segment.is_empty()
            } else {
                literal += 1;
                part == segment
            }
        });
        if matches && best.is_none_or(|(_, score)| literal > score) {
            best = Some((template.as_str(), literal));
        }
    }
    best.map(|(template, _)| template)
}

/// Checks one response. `Ok` for requests the document does not describe (an unknown path or
/// method, which the routers answer with their generic 404 and 405).
pub fn check_response(
    method: &Method,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    let Some(template) = template_for(path) else {
        return Ok(());
    };
    let method_name = method.as_str().to_lowercase();
    let operation = &document()["paths"][template][&method_name];
    if operation.is_null() {
        return Ok(());
    }
    let responses = &operation["responses"];
    let class = format!("{}XX", status / 100);
    let (code, mut response) = [status.to_string(), class, "default".to_string()]
        .into_iter()
        .find_map(|code| responses.get(&code).map(|r| (code, r)))
        .ok_or_else(|| {
            format!(
                "{} {template} answered {status}, which openapi.json does not list",
                method
            )
        })?;
    let mut pointer = format!(
        "#/paths/{}/{method_name}/responses/{code}",
        escape(template)
    );
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        pointer = reference.to_string();
        let name = reference.rsplit('/').next().unwrap_or_default();
        response = &document()["components"]["responses"][name];
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: the document says no body, but one came"
            ))
        };
    };
    let media = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if !content.contains_key(&media) {
        return Err(format!(
            "{method} {template} {status}: content type {media:?} is not documented"
        ));
    }
    if !media.contains("json") {
        return Ok(());
    }
    let instance: Value = serde_json::from_slice(body)
        .map_err(|e| format!("{method} {template} {status}: body is not JSON: {e}"))?;
    let schema_pointer = format!("{pointer}/content/{}/schema", escape(&media));
    let validator = validator(&schema_pointer)?;
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{method} {template} {status}: the body does not match openapi.json:\n  {}\nbody: {instance}",
            errors.join("\n  ")
        ))
    }
}

/// What the document's request-body schema for `method path` finds wrong with `body` (empty when it
/// accepts it). Panics if the document gives that operation no JSON body. Tests use it to pin the
/// other half of the contract: a body the document allows must not be refused as malformed, and one
/// it forbids must be refused.
pub fn request_body_errors(method: &Method, path: &str, body: &Value) -> Vec<String> {
    let template = template_for(path).unwrap_or_else(|| panic!("{path} is not documented"));
    let method_name = method.as_str().to_lowercase();
    let content = &document()["paths"][template][&method_name]["requestBody"]["content"];
    assert!(
        content.get("application/json").is_some(),
        "{method} {template} has no JSON request body in openapi.json"
    );
    let pointer = format!(
        "#/paths/{}/{method_name}/requestBody/content/application~1json/schema",
        escape(template)
    );
    let validator = validator(&pointer).unwrap_or_else(|e| panic!("{e}"));
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn validator(pointer: &str) -> Result<Arc<Validator>, String> {
    if let Some(found) = validators().lock().expect("validator cache").get(pointer) {
        return Ok(found.clone());
    }
    // The whole document is the schema's resource, so `#/components/...` references resolve; the
    // root `$ref` picks the one schema to apply.
    let mut schema = document().clone();
    schema["$ref"] = Value::String(pointer.to_string());
    schema["$schema"] = Value::String("https://json-schema.org/draft/2020-12/schema".into());
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| format!("openapi.json schema at {pointer} does not compile: {e}"))?;
    let validator = Arc::new(validator);
    validators()
        .lock()
        .expect("validator cache")
        .insert(pointer.to_string(), validator.clone());
    Ok(validator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_templates_literals_first() {
        assert_eq!(
            template_for("/orders/01J0000000000000000000000A"),
            Some("/orders/{id}")
        );
        assert_eq!(
            template_for("/orders/01J0000000000000000000000A/payments"),
            Some("/orders/{id}/payments")
        );
        assert_eq!(template_for("/cart/items"), Some("/cart/items"));
        assert_eq!(template_for("/nothing/here"), None);
    }

    #[test]
    fn request_bodies_are_checked_against_their_schema() {
        let cart_item = |quantity: Value| {
            request_body_errors(
                &Method::POST,
                "/cart/items",
                &serde_json::json!({"dish_id": "01JC9R4T2V8W6X3Y5Z7A1B2C3D", "quantity": quantity}),
            )
        };
        assert!(cart_item(serde_json::json!(2)).is_empty());
        assert!(!cart_item(serde_json::json!(51)).is_empty());
    }

    #[test]
    fn an_undocumented_status_or_a_wrong_body_is_caught() {
        let ok = br#"{"status":"ok"}"#;
        assert!(check_response(&Method::GET, "/health", 200, Some("application/json"), ok).is_ok());
        assert!(
            check_response(
                &Method::GET,
                "/health",
                200,
                Some("application/json"),
                br#"{"status":5}"#
            )
            .is_err()
        );
        assert!(
            check_response(&Method::GET, "/health", 418, Some("application/json"), ok).is_err()
        );
        assert!(
            check_response(
                &Method::GET,
                "/unknown",
                404,
                Some("application/problem+json"),
                b"{}"
            )
            .is_ok()
        );
    }
}
