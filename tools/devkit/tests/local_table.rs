//! The local table that tests and `make dev` create is the table template.yaml describes.

use devkit::{table::TableDefinition, testing::require_local_stack};

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
