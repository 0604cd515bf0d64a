//! One list of routes, four places: the OpenAPI document, template.yaml (AWS), the local router in
//! Cargo.toml (`cargo lambda watch`), and the functions' own routers. They must agree.

use contract_tests::function_named;
use devkit::{repo_root, testing::TestApp};
use http::Method;
use serde_json::Value;
use std::collections::BTreeSet;

/// (method, path, function)
type Route = (String, String, String);

fn openapi_routes() -> BTreeSet<Route> {
    let document: Value = serde_json::from_str(dishes::OPENAPI).expect("openapi.json is JSON");
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let tag = operation["tags"][0]
                .as_str()
                .expect("every operation has a tag");
            let function = if tag == "webhooks" {
                "paystack-webhook"
            } else {
                tag
            };
            routes.insert((method.to_uppercase(), path.clone(), function.to_string()));
        }
    }
    routes
}

fn template_routes() -> BTreeSet<Route> {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        // Only the Rust functions are built from this workspace (the SMS settings helper is inline).
        let Some(function) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() else {
            continue;
        };
        let function = function.to_string();
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                let props = &event["Properties"];
                routes.insert((
                    props["Method"].as_str().unwrap().to_uppercase(),
                    props["Path"].as_str().unwrap().to_string(),
                    function.clone(),
                ));
            }
        }
    }
    routes
}

fn watch_router_routes() -> BTreeSet<Route> {
    let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .unwrap();
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().unwrap() {
            routes.insert((
                target["method"].as_str().unwrap().to_string(),
                path.clone(),
                target["function"].as_str().unwrap().to_string(),
            ));
        }
    }
    routes
}

#[test]
fn the_document_the_template_and_the_local_router_list_the_same_routes() {
    let documented = openapi_routes();
    assert_eq!(documented.len(), 55, "the HTTP contract has 55 routes");
    assert_eq!(
        template_routes(),
        documented,
        "template.yaml and openapi.json differ"
    );
    assert_eq!(
        watch_router_routes(),
        documented,
        "Cargo.toml's watch router and openapi.json differ"
    );
}

/// Routes of the document whose functions do not serve them yet. Each must really be unserved (the
/// test below fails once it is served, so the entry is removed with the work that serves it).
const NOT_YET_SERVED: &[&str] = &[];

/// Whether a function's router has a route for the request: anything but its fallback 404 or 405.
async fn serves(app: &TestApp, method: &str, path: &str) -> bool {
    let concrete: String = path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                kitchen::domain::UserId::new().to_string()
            } else {
                segment.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let body = serde_json::json!({});
    let with_body = matches!(method, Method::POST | Method::PATCH | Method::PUT).then_some(&body);
    let response = app.request(method, &concrete, with_body, None).await;
    let fallback = response.status == 404 && response.json["detail"] == "no such route";
    !(fallback || response.status == 405)
}

#[tokio::test]
async fn every_documented_route_is_served_by_its_function() {
    let base = TestApp::spawn(dishes::FUNCTION).await;
    let mut wrong = Vec::new();
    for (method, path, function) in openapi_routes() {
        let app = base.with_function(function_named(&function)).await;
        let route = format!("{method} {path}");
        let expected = !NOT_YET_SERVED.contains(&route.as_str());
        if serves(&app, &method, &path).await != expected {
            wrong.push(format!(
                "{route} ({function}): expected {}",
                if expected { "served" } else { "not served yet" }
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "routers and openapi.json disagree:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_document_offers_exactly_the_time_zones_the_kitchen_takes() {
    let document: Value = serde_json::from_str(dishes::OPENAPI).expect("openapi.json is JSON");
    let offered: Vec<&str> =
        document["components"]["schemas"]["KitchenPatch"]["properties"]["timezone"]["enum"]
            .as_array()
            .expect("an enum of zones")
            .iter()
            .map(|zone| zone.as_str().expect("a zone name"))
            .collect();
    assert_eq!(offered, kitchen::domain::KITCHEN_ZONES);
    for zone in kitchen::domain::KITCHEN_ZONES {
        assert!(
            kitchen::domain::ZoneName::parse(zone).is_ok(),
            "{zone} is in the time-zone database"
        );
    }
}
