//! `kitchen-local setup`: prepares the local stack that `make dev` started — creates the table from
//! template.yaml and the SNS topic if they are missing, and seeds the admin — then prints what is where.

use anyhow::{Context, Result, bail};
use devkit::table::TableDefinition;
use kitchen::{
    accounts::{AdminOutcome, ensure_admin},
    db::Db,
    domain::{Email, Password},
};

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() -> Result<()> {
    let command = std::env::args().nth(1).unwrap_or_default();
    if command != "setup" {
        bail!(
            "usage: kitchen-local setup   (reads TABLE_NAME, TOPIC_ARN, ADMIN_EMAIL, ADMIN_PASSWORD)"
        );
    }
    let sdk = kitchen::state::aws_sdk_config().await;
    let table = var("TABLE_NAME", "kitchen");
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let created = TableDefinition::from_repo()?
        .ensure(&client, &table)
        .await?;
    println!(
        "table      {table} ({})",
        if created {
            "created from template.yaml"
        } else {
            "already there"
        }
    );

    let topic_arn = var(
        "TOPIC_ARN",
        "arn:aws:sns:us-east-1:123456789012:kitchen-events",
    );
    let topic_name = topic_arn.rsplit(':').next().unwrap_or("kitchen-events");
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name(topic_name)
        .send()
        .await
        .context("creating the SNS topic")?;
    println!("topic      {}", topic.topic_arn().unwrap_or(topic_name));

    let email =
        Email::parse(&var("ADMIN_EMAIL", "admin@kitchen.local")).map_err(anyhow::Error::msg)?;
    let password_text = var("ADMIN_PASSWORD", "kitchen-admin-123");
    let password =
        Password::parse(&password_text).map_err(|e| anyhow::anyhow!("ADMIN_PASSWORD {e}"))?;
    let db = Db::new(client, table);
    let (admin, outcome) = ensure_admin(&db, &email, Some(&password), kitchen::now()).await?;
    let what = match outcome {
        AdminOutcome::Created => "created",
        AdminOutcome::Promoted => "already there; password set",
    };
    println!(
        "admin      {email} / {password_text} ({what}, id {})",
        admin.id
    );
    Ok(())
}
