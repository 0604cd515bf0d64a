//! Every function's timeout in template.yaml leaves room for the AWS SDK to give up on a table (or
//! topic) that does not answer. A function cut off by Lambda answers nothing of its own: API Gateway
//! sends a bare error without a problem document, where the function would have answered 503 with
//! `Retry-After`. `make load` found it: with DynamoDB Local frozen, `GET /dishes` took 5.0 s, the
//! SDK's operation timeout, which was also the dishes function's.

use devkit::repo_root;
use std::time::Duration;

/// What a function needs after the SDK gave up: build the problem, log it, answer.
const MARGIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn every_function_outlives_the_sdk_giving_up_on_a_dependency_that_hangs() {
    let sdk = kitchen::state::function_sdk_config().await;
    let give_up = sdk
        .timeout_config()
        .and_then(|timeouts| timeouts.operation_timeout())
        .expect("the functions' SDK configuration has an operation timeout");
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let global = template["Globals"]["Function"]["Timeout"].as_u64();
    let mut checked = Vec::new();
    let mut too_short = Vec::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(function) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() else {
            continue;
        };
        let seconds = resource["Properties"]["Timeout"]
            .as_u64()
            .or(global)
            .unwrap_or_else(|| panic!("{function} has no Timeout"));
        checked.push(function.to_string());
        if Duration::from_secs(seconds) < give_up + MARGIN {
            too_short.push(format!("{function} ({seconds} s)"));
        }
    }
    assert_eq!(checked.len(), 7, "the seven functions: {checked:?}");
    assert!(
        too_short.is_empty(),
        "these functions' timeouts end before the SDK gives up on a hung dependency ({} s) plus {} s \
         to answer 503: {}",
        give_up.as_secs(),
        MARGIN.as_secs(),
        too_short.join(", ")
    );
}
