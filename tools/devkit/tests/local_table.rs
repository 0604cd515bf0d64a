//! The local table that tests and `make dev` create is the table template.yaml describes, and the
//! admin its set-up seeds survives a restart on the same data.

use devkit::{table::TableDefinition, testing::require_local_stack};
use kitchen::{
    app::ensure_admin::AdminOutcome,
    db::{Db, NewUser},
    domain::{Email, Password, Role},
};

#[tokio::test]
async fn dynamodb_local_gets_exactly_the_key_schema_and_indexes_of_the_template() {
    require_local_stack();
    let definition = TableDefinition::from_repo().unwrap();
    let sdk = kitchen::state::aws_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let name = format!("schema-{}", ulid::Ulid::new().to_string().to_lowercase());
    assert!(
        definition.ensure(&client, &name).await.unwrap(),
        "a new table is created"
    );
    assert!(
        !definition.ensure(&client, &name).await.unwrap(),
        "an existing table is left alone"
    );

    let table = client
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        schema
            .iter()
            .map(|k| (k.attribute_name().to_string(), k.key_type().clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(table.key_schema()), keys(&definition.key_schema));
    let mut local: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            (
                i.index_name().unwrap_or_default().to_string(),
                keys(i.key_schema()),
            )
        })
        .collect();
    local.sort();
    let template: Vec<_> = definition
        .indexes
        .iter()
        .map(|i| (i.index_name().to_string(), keys(i.key_schema())))
        .collect();
    assert_eq!(local, template);
    let mut attributes: Vec<_> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().clone()))
        .collect();
    attributes.sort();
    let mut expected: Vec<_> = definition
        .attributes
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().clone()))
        .collect();
    expected.sort();
    assert_eq!(attributes, expected);

    let ttl = client
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    let ttl_attribute = ttl
        .time_to_live_description()
        .and_then(|d| d.attribute_name());
    assert_eq!(ttl_attribute, definition.ttl_attribute.as_deref());
}

async fn fresh_db() -> Db {
    require_local_stack();
    let sdk = kitchen::state::aws_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let name = format!("seed-{}", ulid::Ulid::new().to_string().to_lowercase());
    TableDefinition::from_repo()
        .unwrap()
        .ensure(&client, &name)
        .await
        .unwrap();
    Db::new(client, name)
}

#[tokio::test]
async fn seeding_the_admin_again_on_kept_data_leaves_it_or_gives_it_the_new_password() {
    let db = fresh_db().await;
    let email = Email::parse("admin@kitchen.local").unwrap();
    let password = Password::parse("kitchen-admin-123").unwrap();
    let (first, outcome) = devkit::seed::admin(&db, &email, &password).await.unwrap();
    assert_eq!(outcome, AdminOutcome::Created);
    let (again, outcome) = devkit::seed::admin(&db, &email, &password).await.unwrap();
    assert_eq!(
        (outcome, &again.id),
        (AdminOutcome::AlreadyAdmin, &first.id)
    );
    let changed = Password::parse("another-pass-456").unwrap();
    let (reset, outcome) = devkit::seed::admin(&db, &email, &changed).await.unwrap();
    assert_eq!((outcome, &reset.id), (AdminOutcome::Promoted, &first.id));
    let stored = db.get_user(&first.id).await.unwrap().unwrap();
    assert!(kitchen::password::verify("another-pass-456", stored.password_hash.as_deref()).await);
}

#[tokio::test]
async fn seeding_the_admin_never_takes_over_a_customer_s_account() {
    let db = fresh_db().await;
    let email = Email::parse("admin@kitchen.local").unwrap();
    let customer = NewUser {
        email: Some(email.clone()),
        ..NewUser::default()
    }
    .into_user(kitchen::now());
    db.create_user(&customer, None).await.unwrap();
    let password = Password::parse("kitchen-admin-123").unwrap();
    let refused = devkit::seed::admin(&db, &email, &password)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("--promote-existing"),
        "{refused}"
    );
    let stored = db.get_user(&customer.id).await.unwrap().unwrap();
    assert_eq!(stored.role, Role::Customer);
}
