//! Each function runs with exactly the environment its template entry gives it: every setting a
//! function reads is there (from one stack parameter), and one the template forgot stops its cold
//! start, naming the variable, as it would in AWS.

use contract_tests::HTTP_FUNCTIONS;
use devkit::stack::{LocalBindings, Stack, Template};
use kitchen::{Config, config::Setting};

fn stack() -> Stack {
    Stack::new(
        &Template::from_repo().unwrap(),
        &LocalBindings::new("kitchen", "kitchen-events")
            .parameter("PaystackCallbackUrl", "https://app.example/paid"),
    )
    .unwrap()
}

#[test]
fn every_function_gets_every_setting_it_reads_and_a_forgotten_one_stops_its_cold_start() {
    let stack = stack();
    for function in HTTP_FUNCTIONS {
        let definition = stack.template().function(function.name).unwrap();
        let env = stack.function_environment(&definition).unwrap();
        Config::for_function(function.settings, |name| env.get(name).cloned()).unwrap_or_else(
            |err| {
                panic!(
                    "{}: template.yaml misses what it reads: {err}",
                    function.name
                )
            },
        );
        for setting in function.settings {
            let Some(variable) = setting.required_variable() else {
                continue;
            };
            let err = Config::for_function(function.settings, |name| {
                (name != variable).then(|| env.get(name).cloned()).flatten()
            })
            .expect_err("a forgotten setting must stop the cold start");
            assert!(
                err.to_string().contains(variable),
                "{}: {err}",
                function.name
            );
        }
    }
}

#[test]
fn a_setting_several_functions_read_comes_from_one_parameter() {
    let stack = Stack::new(
        &Template::from_repo().unwrap(),
        &LocalBindings::new("kitchen", "kitchen-events")
            .parameter("PaystackCallbackUrl", "https://app.example/paid")
            .parameter("UnpaidOrderExpirySeconds", "3600"),
    )
    .unwrap();
    let mut readers = 0;
    for function in HTTP_FUNCTIONS {
        if function
            .settings
            .contains(&kitchen::config::Setting::UnpaidOrderExpiry)
        {
            let definition = stack.template().function(function.name).unwrap();
            let env = stack.function_environment(&definition).unwrap();
            assert_eq!(
                env.get("UNPAID_ORDER_EXPIRY_SECONDS").map(String::as_str),
                Some("3600"),
                "{}",
                function.name
            );
            readers += 1;
        }
    }
    assert_eq!(
        readers, 4,
        "orders, payments, admin and the webhook judge expiry"
    );
}

/// The configuration of a function whose token key is in SSM parameter `name`.
fn config_with_key_in(name: &str) -> Config {
    Config::for_function(
        &[Setting::Table, Setting::TokenKey],
        |variable| match variable {
            "TABLE_NAME" => Some("kitchen".into()),
            "JWT_SECRET_PARAMETER" => Some(name.to_string()),
            _ => None,
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_token_key_read_from_ssm_is_held_to_the_same_length_rule_as_one_from_the_environment() {
    devkit::testing::require_local_stack();
    let sdk = kitchen::state::aws_sdk_config().await;
    let name = format!("/test-{}/jwt-secret", ulid::Ulid::new());
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    devkit::testing::put_secure_parameter(&ssm, &name, "too-short-for-a-key").await;
    let err = match kitchen::AppState::build(config_with_key_in(&name), &sdk).await {
        Ok(_) => panic!("a 19-character key must not start a function"),
        Err(err) => err.to_string(),
    };
    assert!(err.contains(&name) && err.contains("at least 32"), "{err}");
    devkit::testing::put_secure_parameter(&ssm, &name, &"k".repeat(32)).await;
    assert!(
        kitchen::AppState::build(config_with_key_in(&name), &sdk)
            .await
            .is_ok()
    );
}
