//! The admin tool, run as a process against DynamoDB Local, as an operator would run it.

use devkit::table::TableDefinition;
use kitchen::{
    db::{Db, NewUser},
    domain::{Email, Password, Role, Session, SessionId, User},
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
async fn create_makes_an_admin_who_can_sign_in() {
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
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("already an admin"));
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

/// An account made as sign-up makes one, with `password` and one live session.
async fn registered(db: &Db, email: &str, password: &str, role: Role) -> (User, SessionId) {
    let hash = kitchen::password::hash(&Password::parse(password).unwrap())
        .await
        .unwrap();
    let now = kitchen::now();
    let user = NewUser {
        email: Some(Email::parse(email).unwrap()),
        role: Some(role),
        password_hash: Some(hash),
        ..NewUser::default()
    }
    .into_user(now);
    let session_id = SessionId::new();
    let session = Session::start(
        &user,
        session_id.clone(),
        "0".repeat(64),
        now,
        std::time::Duration::from_secs(3600),
        std::time::Duration::from_secs(86400),
    );
    db.create_user(&user, Some(&session)).await.unwrap();
    (user, session_id)
}

/// Whether the session would still be honoured: there, unexpired, and made under the account's
/// current credentials.
async fn session_is_live(db: &Db, user: &User, session: &SessionId) -> bool {
    let (session, user) = db.session_for_refresh(&user.id, session).await.unwrap();
    matches!((session, user), (Some(session), Some(user))
        if session.is_live(kitchen::now()) && session.is_honoured_by(&user))
}

#[tokio::test]
async fn create_refuses_an_email_that_already_has_an_account_unless_told_to_promote_it() {
    let (table, db) = fresh_table().await;
    let (customer, session) = registered(
        &db,
        "chef@example.com",
        "the customer's password",
        Role::Customer,
    )
    .await;
    let refused = run(
        &table,
        &["create", "--email", "chef@example.com"],
        "a strong admin password\n",
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("already has an account (a customer's)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--promote-existing"),
        "names the flag: {stderr}"
    );
    let untouched = db.get_user(&customer.id).await.unwrap().unwrap();
    assert_eq!(untouched.role, Role::Customer);
    assert_eq!(untouched.password_hash, customer.password_hash);
    assert!(session_is_live(&db, &customer, &session).await);
    // --keep-password asks nothing and so cannot promote either.
    let kept = run(
        &table,
        &["create", "--email", "chef@example.com", "--keep-password"],
        "",
    );
    assert!(!kept.status.success());
    assert_eq!(
        db.get_user(&customer.id).await.unwrap().unwrap().role,
        Role::Customer
    );
}

#[tokio::test]
async fn promote_existing_makes_the_account_an_admin_with_the_new_password_and_ends_its_sessions() {
    let (table, db) = fresh_table().await;
    let (customer, session) = registered(
        &db,
        "chef@example.com",
        "the customer's password",
        Role::Customer,
    )
    .await;
    let promoted = run(
        &table,
        &[
            "create",
            "--email",
            "chef@example.com",
            "--promote-existing",
        ],
        "a strong admin password\n",
    );
    assert!(
        promoted.status.success(),
        "{}",
        String::from_utf8_lossy(&promoted.stderr)
    );
    assert!(
        String::from_utf8_lossy(&promoted.stdout).starts_with("promoted admin chef@example.com")
    );
    let admin = db.get_user(&customer.id).await.unwrap().unwrap();
    assert_eq!(admin.role, Role::Admin);
    assert!(admin.active);
    let hash = admin.password_hash.as_deref();
    assert!(kitchen::password::verify("a strong admin password", hash).await);
    assert!(!kitchen::password::verify("the customer's password", hash).await);
    assert!(
        !session_is_live(&db, &customer, &session).await,
        "the previous holder's session ended"
    );
    // The flag cannot be combined with keeping the old password.
    let both = run(
        &table,
        &[
            "create",
            "--email",
            "chef@example.com",
            "--promote-existing",
            "--keep-password",
        ],
        "",
    );
    assert!(!both.status.success());
}

#[tokio::test]
async fn create_again_for_the_same_admin_changes_nothing_and_another_password_needs_the_flag() {
    let (table, db) = fresh_table().await;
    let (admin, session) = registered(
        &db,
        "chef@example.com",
        "a strong admin password",
        Role::Admin,
    )
    .await;
    let again = run(
        &table,
        &["create", "--email", "chef@example.com"],
        "a strong admin password\n",
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("already an admin"));
    assert_eq!(
        db.get_user(&admin.id).await.unwrap().unwrap().password_hash,
        admin.password_hash
    );
    assert!(
        session_is_live(&db, &admin, &session).await,
        "sessions kept"
    );

    let other = run(
        &table,
        &["create", "--email", "chef@example.com"],
        "another admin password\n",
    );
    assert!(!other.status.success());
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        stderr.contains("an admin's, with another password"),
        "{stderr}"
    );
    assert!(stderr.contains("--promote-existing"), "{stderr}");

    let reset = run(
        &table,
        &[
            "create",
            "--email",
            "chef@example.com",
            "--promote-existing",
        ],
        "another admin password\n",
    );
    assert!(reset.status.success());
    let after = db.get_user(&admin.id).await.unwrap().unwrap();
    assert!(
        kitchen::password::verify("another admin password", after.password_hash.as_deref()).await
    );
    assert!(!session_is_live(&db, &admin, &session).await);
}
