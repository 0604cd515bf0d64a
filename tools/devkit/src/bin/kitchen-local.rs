//! `kitchen-local setup`: prepares the local stack that `make dev` started — creates the table from
//! template.yaml and the SNS topic if they are missing, and seeds the admin and a demo menu — then
//! prints what is where.

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

    let (added, kept) = seed_menu(&db).await?;
    println!("menu       {added} demo dishes added, {kept} already there");
    Ok(())
}

/// A small menu, so `GET /dishes` shows something on a fresh stack. Dishes already there (by name)
/// are left as they are.
async fn seed_menu(db: &Db) -> Result<(usize, usize)> {
    use kitchen::{
        db::{Dish, DishWriteError},
        domain::{Currency, Date, Description, DishId, DishName, DishType, Price, Tag},
    };
    type Seed = (
        &'static str,
        &'static str,
        i64,
        DishType,
        &'static [&'static str],
    );
    const MENU: &[Seed] = &[
        (
            "Akara and Pap",
            "Bean fritters with warm fermented corn pudding.",
            150_000,
            DishType::Breakfast,
            &["vegetarian"],
        ),
        (
            "Yam and Egg Sauce",
            "Boiled yam with tomato and pepper scrambled eggs.",
            200_000,
            DishType::Breakfast,
            &[],
        ),
        (
            "Party Jollof Rice",
            "Smoky jollof rice with fried plantain and grilled chicken.",
            350_000,
            DishType::Lunch,
            &["spicy", "rice"],
        ),
        (
            "Ofada Rice and Ayamase",
            "Local rice with green pepper stew and assorted meat.",
            400_000,
            DishType::Lunch,
            &["spicy", "rice"],
        ),
        (
            "Egusi Soup and Pounded Yam",
            "Melon seed soup with spinach, beef and stockfish.",
            450_000,
            DishType::Dinner,
            &["soup"],
        ),
        (
            "Pepper Soup",
            "Catfish pepper soup with scent leaves.",
            380_000,
            DishType::Dinner,
            &["spicy", "soup"],
        ),
        (
            "Beef Suya",
            "Grilled spiced beef skewers with onions and yaji.",
            250_000,
            DishType::Other,
            &["spicy", "grill"],
        ),
        (
            "Puff-Puff",
            "Sweet fried dough balls, a dozen.",
            100_000,
            DishType::Dessert,
            &["sweet", "vegetarian"],
        ),
    ];
    let now = kitchen::now();
    let from = Date::parse("2026-01-01").map_err(anyhow::Error::msg)?;
    let (mut added, mut kept) = (0, 0);
    for (name, description, price, dish_type, tags) in MENU {
        let dish = Dish {
            id: DishId::new(),
            name: DishName::parse(name).map_err(anyhow::Error::msg)?,
            description: Description::parse(description).map_err(anyhow::Error::msg)?,
            price: Price::parse(*price).map_err(anyhow::Error::msg)?,
            currency: Currency::Ngn,
            dish_type: *dish_type,
            tags: tags
                .iter()
                .map(|t| Tag::parse(t))
                .collect::<Result<_, _>>()
                .map_err(anyhow::Error::msg)?,
            available_from: from,
            available_until: None,
            active: true,
            created_at: now,
            updated_at: now,
        };
        match db.create_dish(&dish).await {
            Ok(()) => added += 1,
            Err(DishWriteError::NameTaken) => kept += 1,
            Err(err) => return Err(err).context("seeding the demo menu"),
        }
    }
    Ok((added, kept))
}
