//! The table definition from `template.yaml`, so DynamoDB Local gets exactly the key schema and
//! indexes that CloudFormation creates in AWS: one definition, nothing to keep in step by hand.

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    },
};
use serde_yaml_ng::Value;
use std::path::Path;

/// The logical id of the table in template.yaml.
pub const TABLE_RESOURCE: &str = "Table";

#[derive(Debug, Clone, PartialEq)]
pub struct TableDefinition {
    pub attributes: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub indexes: Vec<GlobalSecondaryIndex>,
    pub ttl_attribute: Option<String>,
}

impl TableDefinition {
    /// Reads the `Table` resource of the SAM template at `path`.
    pub fn from_template(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_template_text(&text)
    }

    /// The definition in this repository's template.yaml.
    pub fn from_repo() -> Result<Self> {
        Self::from_template(&crate::repo_root().join("template.yaml"))
    }

    pub fn from_template_text(text: &str) -> Result<Self> {
        let template: Value = serde_yaml_ng::from_str(text).context("template.yaml is not YAML")?;
        let resource = &template["Resources"][TABLE_RESOURCE];
        if resource["Type"].as_str() != Some("AWS::DynamoDB::Table") {
            bail!("template.yaml has no AWS::DynamoDB::Table named {TABLE_RESOURCE}");
        }
        let props = &resource["Properties"];
        let attributes = list(&props["AttributeDefinitions"], "AttributeDefinitions")?
            .iter()
            .map(|a| {
                Ok(AttributeDefinition::builder()
                    .attribute_name(text_of(&a["AttributeName"], "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(text_of(
                        &a["AttributeType"],
                        "AttributeType",
                    )?))
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let table_keys = key_schema(&props["KeySchema"])?;
        let indexes = match &props["GlobalSecondaryIndexes"] {
            Value::Null => Vec::new(),
            value => list(value, "GlobalSecondaryIndexes")?
                .iter()
                .map(|index| {
                    let projection =
                        text_of(&index["Projection"]["ProjectionType"], "ProjectionType")?;
                    Ok(GlobalSecondaryIndex::builder()
                        .index_name(text_of(&index["IndexName"], "IndexName")?)
                        .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::from(projection))
                                .build(),
                        )
                        .build()?)
                })
                .collect::<Result<Vec<_>>>()?,
        };
        let ttl = &props["TimeToLiveSpecification"];
        let ttl_attribute = (ttl["Enabled"].as_bool() == Some(true))
            .then(|| ttl["AttributeName"].as_str().map(String::from))
            .flatten();
        Ok(Self {
            attributes,
            key_schema: table_keys,
            indexes,
            ttl_attribute,
        })
    }

    /// Creates the table (on demand, as in AWS) and turns on its TTL.
    pub async fn create(&self, client: &Client, name: &str) -> Result<()> {
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(self.attributes.clone()))
            .set_key_schema(Some(self.key_schema.clone()))
            .set_global_secondary_indexes((!self.indexes.is_empty()).then(|| self.indexes.clone()))
            .send()
            .await
            .with_context(|| format!("creating table {name}"))?;
        if let Some(attribute) = &self.ttl_attribute {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(true)
                        .build()?,
                )
                .send()
                .await
                .with_context(|| format!("enabling TTL on {name}"))?;
        }
        Ok(())
    }

    /// Creates the table unless it exists. `true` if it created it.
    pub async fn ensure(&self, client: &Client, name: &str) -> Result<bool> {
        let tables = client
            .list_tables()
            .send()
            .await
            .context("listing tables")?;
        if tables.table_names().iter().any(|t| t == name) {
            return Ok(false);
        }
        self.create(client, name).await?;
        Ok(true)
    }
}

fn list<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    value
        .as_sequence()
        .ok_or_else(|| anyhow!("{what} must be a literal list in template.yaml"))
}

fn text_of<'a>(value: &'a Value, what: &str) -> Result<&'a str> {
    // A tag (`!Ref`, `!Sub`…) would be resolved by CloudFormation, not here: refuse it.
    if matches!(value, Value::Tagged(_)) {
        bail!("{what} must be a literal string in template.yaml, not an intrinsic function");
    }
    value
        .as_str()
        .ok_or_else(|| anyhow!("{what} must be a literal string in template.yaml"))
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>> {
    list(value, "KeySchema")?
        .iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text_of(&k["AttributeName"], "AttributeName")?)
                .key_type(KeyType::from(text_of(&k["KeyType"], "KeyType")?))
                .build()?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_template_defines_the_table_the_code_expects() {
        let table = TableDefinition::from_repo().unwrap();
        let keys: Vec<_> = table
            .key_schema
            .iter()
            .map(|k| (k.attribute_name(), k.key_type().clone()))
            .collect();
        assert_eq!(keys, [("pk", KeyType::Hash), ("sk", KeyType::Range)]);
        let names: Vec<_> = table.indexes.iter().map(|i| i.index_name()).collect();
        assert_eq!(names, ["gsi1", "gsi2", "gsi3"]);
        for index in &table.indexes {
            let name = index.index_name();
            let keys: Vec<_> = index
                .key_schema()
                .iter()
                .map(|k| k.attribute_name().to_string())
                .collect();
            assert_eq!(keys, [format!("{name}pk"), format!("{name}sk")]);
        }
        assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
    }

    #[test]
    fn a_template_without_the_table_is_refused() {
        let err = TableDefinition::from_template_text("Resources: {}\n").unwrap_err();
        assert!(err.to_string().contains("no AWS::DynamoDB::Table"));
    }

    #[test]
    fn intrinsic_functions_inside_the_key_schema_are_refused() {
        let text = "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      AttributeDefinitions:\n        - AttributeName: !Ref Name\n          AttributeType: S\n      KeySchema: []\n";
        assert!(TableDefinition::from_template_text(text).is_err());
    }
}
