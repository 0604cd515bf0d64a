//! The admin tool, run as a process against DynamoDB Local, as an operator would run it.

use devkit::table::TableDefinition;
use kitchen::{
    db::Db,
    domain::{Email, Role},
};
use std::{io::Write, process::Command, process::Stdio};

async fn fresh_table() -> (String, Db) {
    devkit::testing::require_local_stack();
    let sdk = kitchen::state::aws_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let name = format!("admin-cli-{}", ulid_like());
    TableDefinition::from_repo()
        .unwrap()
        .create(&client, &name)
        .await
        .unwrap();
    (name.clone(), Db::new(client, name))
}

fn ulid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn run(table: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kitchen-admin"))
        .args(args)
        .env("TABLE_NAME", table)
        .env_remove("KITCHEN_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn create_makes_an_admin_who_can_sign_in_and_promote_is_idempotent() {
    let (table, db) = fresh_table().await;
    let output = run(
        &table,
        &["create", "--email", "Chef@Example.com"],
        "a strong admin password\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("created admin chef@example.com"));
    let email = Email::parse("chef@example.com").unwrap();
    let admin = db.user_by_email(&email).await.unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(
        kitchen::password::verify("a strong admin password", admin.password_hash.as_deref()).await
    );

    let again = run(
        &table,
        &["create", "--email", "chef@example.com", "--keep-password"],
        "",
    );
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("promoted admin"));
    let still = db.user_by_email(&email).await.unwrap().unwrap();
    assert_eq!(still.id, admin.id);
    assert_eq!(still.password_hash, admin.password_hash);
}

#[tokio::test]
async fn create_refuses_a_short_password_or_a_missing_account_without_one() {
    let (table, db) = fresh_table().await;
    let short = run(
        &table,
        &["create", "--email", "chef@example.com"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("between 8 and 128"));
    let none = run(
        &table,
        &["create", "--email", "chef@example.com", "--keep-password"],
        "",
    );
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no account yet"));
    assert!(
        db.user_by_email(&Email::parse("chef@example.com").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}
