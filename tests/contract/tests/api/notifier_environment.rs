//! The notifier's environment in template.yaml: it passes every variable the notifier's configuration
//! reads, and the stack parameter behind `SMS_SENDER_ID` takes exactly the sender ids the
//! configuration takes, so a deploy with one the notifier would refuse fails at the parameter
//! instead of at every cold start.

use devkit::repo_root;
use serde_json::json;
use serde_yaml_ng::Value;
use std::cell::RefCell;

fn template() -> Value {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn notifier_variables(template: &Value) -> &Value {
    &template["Resources"]["Notifier"]["Properties"]["Environment"]["Variables"]
}

/// The variables the configuration asks for, in order.
fn read_by_the_configuration() -> Vec<String> {
    let asked = RefCell::new(Vec::new());
    kitchen::Config::for_function(notifier::SETTINGS, |name| {
        asked.borrow_mut().push(name.to_string());
        None
    })
    .expect("the notifier needs no variable");
    asked.into_inner()
}

#[test]
fn the_notifier_gets_every_variable_its_configuration_reads() {
    let template = template();
    let variables = notifier_variables(&template);
    let read = read_by_the_configuration();
    assert!(read.contains(&"SMS_SENDER_ID".to_string()), "{read:?}");
    let missing: Vec<_> = read
        .iter()
        .filter(|name| variables.get(name.as_str()).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the notifier's Environment in template.yaml lacks {missing:?}"
    );
}

#[test]
fn the_sms_sender_parameter_takes_exactly_the_sender_ids_the_notifier_takes() {
    let template = template();
    let parameter = match &notifier_variables(&template)["SMS_SENDER_ID"] {
        Value::Tagged(reference) if reference.tag == "!Ref" => {
            reference.value.as_str().expect("a parameter name")
        }
        other => panic!("SMS_SENDER_ID should be !Ref to a stack parameter, not {other:?}"),
    };
    let parameter = &template["Parameters"][parameter];
    // CloudFormation's constraints on a String parameter, as JSON Schema (the pattern is anchored,
    // so searching and matching agree).
    let constraints = json!({
        "type": "string",
        "pattern": parameter["AllowedPattern"].as_str().expect("an AllowedPattern"),
        "maxLength": parameter["MaxLength"].as_u64().expect("a MaxLength"),
    });
    let stack = jsonschema::validator_for(&constraints).expect("the constraints compile");
    let notifier = |value: &str| {
        kitchen::Config::for_function(notifier::SETTINGS, |name| {
            (name == "SMS_SENDER_ID").then(|| value.to_string())
        })
        .is_ok()
    };
    let default = parameter["Default"].as_str().expect("a default");
    assert!(stack.is_valid(&json!(default)) && notifier(default));
    for value in [
        "",
        "Kitchen",
        "K",
        "9jaKitchen",
        "Kitchen2026",
        "Kitchen20266",
        "123456",
        "Kitchen API",
        "Kitchen-API",
        "Kitchen!",
        "Kïtchen",
    ] {
        assert_eq!(
            stack.is_valid(&json!(value)),
            notifier(value),
            "the stack parameter and the notifier disagree on {value:?}"
        );
    }
}
