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

#[test]
fn only_auth_holds_the_signing_key_and_only_the_listing_functions_the_cursor_key() {
    let stack = stack();
    let holders = |setting: Setting| {
        HTTP_FUNCTIONS
            .iter()
            .filter(|function| function.settings.contains(&setting))
            .map(|function| function.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(holders(Setting::TokenSigningKey), ["auth"]);
    assert_eq!(
        holders(Setting::TokenPublicKeys),
        ["auth", "orders", "payments", "admin"]
    );
    assert_eq!(
        holders(Setting::CursorKey),
        ["dishes", "orders", "payments", "admin"]
    );
    // And the template gives no key to a function that does not read it (the notifier included).
    for name in HTTP_FUNCTIONS
        .iter()
        .map(|function| function.name)
        .chain(["notifier"])
    {
        let definition = stack.template().function(name).unwrap();
        let env = stack.function_environment(&definition).unwrap();
        for (setting, variable) in [
            (Setting::TokenSigningKey, "TOKEN_SIGNING_KEY_PARAMETER"),
            (Setting::TokenPublicKeys, "TOKEN_PUBLIC_KEYS_PARAMETER"),
            (Setting::CursorKey, "CURSOR_KEY_PARAMETER"),
        ] {
            assert_eq!(
                env.contains_key(variable),
                holders(setting).contains(&name),
                "{name}: {variable}"
            );
        }
    }
}

/// The configuration of a function that reads `settings`, each key in the SSM parameter `/<prefix>/<variable>`.
fn config_with_keys_in(prefix: &str, settings: &[Setting]) -> Config {
    Config::for_function(settings, |variable| {
        if variable == "TABLE_NAME" {
            Some("kitchen".into())
        } else {
            variable
                .ends_with("_PARAMETER")
                .then(|| format!("/{prefix}/{variable}"))
        }
    })
    .unwrap()
}

#[tokio::test]
async fn keys_read_from_ssm_in_one_call_are_checked_at_the_cold_start_naming_their_parameter() {
    use devkit::testing::{
        TEST_CURSOR_KEY, TEST_NEXT_TOKEN_SIGNING_KEY, TEST_TOKEN_PUBLIC_KEYS,
        TEST_TOKEN_SIGNING_KEY, put_secure_parameter,
    };
    devkit::testing::require_local_stack();
    let sdk = kitchen::state::aws_sdk_config().await;
    let prefix = format!("test-{}", ulid::Ulid::new());
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let put = |variable: &str, value: &str| {
        let (ssm, name, value) = (
            ssm.clone(),
            format!("/{prefix}/{variable}"),
            value.to_string(),
        );
        async move { put_secure_parameter(&ssm, &name, &value).await }
    };
    let auth = [
        Setting::Table,
        Setting::TokenSigningKey,
        Setting::TokenPublicKeys,
        Setting::CursorKey,
    ];
    let start =
        || async { kitchen::AppState::build(config_with_keys_in(&prefix, &auth), &sdk).await };
    put("TOKEN_SIGNING_KEY_PARAMETER", TEST_TOKEN_SIGNING_KEY).await;
    put("TOKEN_PUBLIC_KEYS_PARAMETER", TEST_TOKEN_PUBLIC_KEYS).await;
    let err = start()
        .await
        .err()
        .expect("a missing parameter")
        .to_string();
    assert!(
        err.contains(&format!("/{prefix}/CURSOR_KEY_PARAMETER")),
        "{err}"
    );
    put("CURSOR_KEY_PARAMETER", "dG9vIHNob3J0").await;
    let err = start().await.err().expect("a short cursor key").to_string();
    assert!(
        err.contains("CURSOR_KEY_PARAMETER") && err.contains("at least 32"),
        "{err}"
    );
    put("CURSOR_KEY_PARAMETER", TEST_CURSOR_KEY).await;
    assert!(start().await.is_ok());
    // A signing key whose public key is not yet published would sign tokens nobody accepts.
    put("TOKEN_SIGNING_KEY_PARAMETER", TEST_NEXT_TOKEN_SIGNING_KEY).await;
    let err = start().await.err().expect("an unpublished key").to_string();
    assert!(
        err.contains("is not among the public keys") && err.contains("TOKEN_PUBLIC_KEYS_PARAMETER"),
        "{err}"
    );
    put("TOKEN_PUBLIC_KEYS_PARAMETER", "not a key").await;
    let err = start()
        .await
        .err()
        .expect("a malformed key set")
        .to_string();
    assert!(err.contains("TOKEN_PUBLIC_KEYS_PARAMETER"), "{err}");
}
