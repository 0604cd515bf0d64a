//! The public menu, against DynamoDB Local.

use devkit::testing::{TestApp, dish};
use kitchen::domain::{Date, DishType, Tag};
use serde_json::Value;
use std::collections::HashSet;

async fn app() -> TestApp {
    TestApp::spawn(dishes::FUNCTION).await
}

fn days(date: Date, n: i64) -> Date {
    date.add_days(n)
}

fn names(items: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_menu_shows_active_dishes_orderable_on_the_date() {
    let app = app().await;
    let today = app.today();
    let mut ended = dish("Ended Yesterday", days(today, -10));
    ended.available_until = Some(days(today, -1));
    let mut last_day = dish("Last Day Today", days(today, -3));
    last_day.available_until = Some(today);
    let mut inactive = dish("Withdrawn", days(today, -3));
    inactive.active = false;
    app.add_dishes(&[
        dish("Jollof Rice", days(today, -30)),
        dish("Starts Tomorrow", days(today, 1)),
        ended,
        last_day,
        inactive,
    ])
    .await;
    let today_menu = app.get(&format!("/dishes?date={today}"), None).await;
    today_menu.assert_status(200);
    assert_eq!(
        names(today_menu.json["items"].as_array().unwrap()),
        ["Jollof Rice", "Last Day Today"]
    );
    assert_eq!(today_menu.json["next_cursor"], Value::Null);
    // Without ?date= the menu is the kitchen's today.
    let default = app.get("/dishes", None).await;
    assert_eq!(default.json["items"], today_menu.json["items"]);
    let tomorrow = app
        .get(&format!("/dishes?date={}", days(today, 1)), None)
        .await;
    assert_eq!(
        names(tomorrow.json["items"].as_array().unwrap()),
        ["Jollof Rice", "Starts Tomorrow"]
    );
    let item = &today_menu.json["items"][0];
    for field in [
        "id",
        "name",
        "description",
        "price",
        "currency",
        "dish_type",
        "tags",
        "available_from",
        "available_until",
        "active",
        "created_at",
        "updated_at",
    ] {
        assert!(item.get(field).is_some(), "{field} missing from {item}");
    }
    assert_eq!(item["currency"], "NGN");
}

#[tokio::test]
async fn the_menu_filters_by_type_tag_and_name() {
    let app = app().await;
    let today = app.today();
    let mut pancakes = dish("Fluffy Pancakes", today);
    pancakes.dish_type = DishType::Breakfast;
    pancakes.tags = vec![Tag::parse("sweet").unwrap()];
    let mut suya = dish("Beef Suya", today);
    suya.tags = vec![Tag::parse("spicy").unwrap(), Tag::parse("grill").unwrap()];
    app.add_dishes(&[pancakes, suya, dish("Jollof Rice", today)])
        .await;
    let by_type = app.get("/dishes?dish_type=breakfast", None).await;
    assert_eq!(
        names(by_type.json["items"].as_array().unwrap()),
        ["Fluffy Pancakes"]
    );
    let by_tag = app.get("/dishes?tag=spicy", None).await;
    assert_eq!(
        names(by_tag.json["items"].as_array().unwrap()),
        ["Beef Suya"]
    );
    let by_name = app.get("/dishes?q=JOLL", None).await;
    assert_eq!(
        names(by_name.json["items"].as_array().unwrap()),
        ["Jollof Rice"]
    );
    let combined = app.get("/dishes?dish_type=lunch&q=rice", None).await;
    assert_eq!(
        names(combined.json["items"].as_array().unwrap()),
        ["Jollof Rice"]
    );
    let none = app.get("/dishes?dish_type=dinner", None).await;
    assert_eq!(none.json["items"], serde_json::json!([]));
}

#[tokio::test]
async fn search_text_and_tags_in_the_query_mean_what_the_document_says() {
    let app = app().await;
    let today = app.today();
    let mut suya = dish("Beef Suya", today);
    suya.tags = vec![Tag::parse("spicy").unwrap()];
    app.add_dishes(&[suya]).await;
    // Padding and case do not matter to a search or a tag; blank text, text over 100 characters
    // as sent, and a tag with a space are refused, as the document's schemas say.
    for query in ["q=%20%20BEEF%20%20suya%09", "tag=SPICY"] {
        let found = app.get(&format!("/dishes?{query}"), None).await;
        found.assert_status(200);
        assert_eq!(
            names(found.json["items"].as_array().unwrap()),
            ["Beef Suya"],
            "{query}"
        );
    }
    let padded = format!("q=suya{}", "%20".repeat(97));
    for query in ["q=%09", "q=%20%20", padded.as_str(), "tag=%20spicy"] {
        app.get(&format!("/dishes?{query}"), None)
            .await
            .assert_problem(400);
    }
}

#[tokio::test]
async fn paging_through_the_menu_sees_every_dish_exactly_once() {
    let app = app().await;
    let today = app.today();
    let mut dishes = Vec::new();
    for i in 0..23 {
        let mut d = dish(&format!("Dish {i:02}"), days(today, -(i % 3)));
        if i % 4 == 0 {
            d.available_until = Some(days(today, i % 5));
        }
        if i % 2 == 0 {
            d.dish_type = DishType::Dinner;
        }
        dishes.push(d);
    }
    app.add_dishes(&dishes).await;
    let (items, pages) = app.collect_pages("/dishes?limit=5", None).await;
    assert_eq!(pages, 5);
    assert_eq!(items.len(), 23);
    let ids: HashSet<_> = items
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 23, "no dish is seen twice");
    // With a filter that drops most items, pages still fill and nothing is lost.
    let (dinners, _) = app
        .collect_pages("/dishes?dish_type=dinner&limit=3", None)
        .await;
    assert_eq!(dinners.len(), 12);
    assert!(dinners.iter().all(|d| d["dish_type"] == "dinner"));
}

#[tokio::test]
async fn forged_or_foreign_cursors_and_bad_limits_are_400() {
    let app = app().await;
    let today = app.today();
    app.add_dishes(&[dish("A", today), dish("B", today), dish("C", today)])
        .await;
    let first = app.get("/dishes?limit=1", None).await;
    let cursor = first.json["next_cursor"].as_str().unwrap().to_string();
    app.get(&format!("/dishes?limit=1&cursor={cursor}"), None)
        .await
        .assert_status(200);
    // The same cursor with another filter or date belongs to another listing.
    app.get(
        &format!("/dishes?limit=1&dish_type=lunch&cursor={cursor}"),
        None,
    )
    .await
    .assert_problem(400);
    app.get(
        &format!("/dishes?limit=1&date={}&cursor={cursor}", days(today, 1)),
        None,
    )
    .await
    .assert_problem(400);
    let mut tampered = cursor.clone();
    tampered.insert(3, 'A');
    app.get(&format!("/dishes?cursor={tampered}"), None)
        .await
        .assert_problem(400);
    app.get("/dishes?cursor=eyJwayI6IlVTRVIjMSJ9.AAAA", None)
        .await
        .assert_problem(400);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "date=tomorrow",
        "date=2026-02-30",
        "dish_type=brunch",
        "tag=no%20spaces",
        "colour=red",
    ] {
        let response = app.get(&format!("/dishes?{bad}"), None).await;
        response.assert_problem(400);
    }
}

#[tokio::test]
async fn one_dish_is_shown_only_while_active() {
    let app = app().await;
    let today = app.today();
    let shown = dish("Moi Moi", today);
    let mut hidden = dish("Old Recipe", today);
    hidden.active = false;
    app.add_dishes(&[shown.clone(), hidden.clone()]).await;
    let response = app.get(&format!("/dishes/{}", shown.id), None).await;
    response.assert_status(200);
    assert_eq!(response.json["name"], "Moi Moi");
    assert_eq!(response.json["price"], 250_000);
    app.get(&format!("/dishes/{}", hidden.id), None)
        .await
        .assert_problem(404);
    app.get(&format!("/dishes/{}", kitchen::domain::DishId::new()), None)
        .await
        .assert_problem(404);
    app.get("/dishes/not-an-id", None).await.assert_problem(404);
}

#[tokio::test]
async fn the_openapi_document_and_the_docs_page_are_served() {
    let app = app().await;
    let document = app.get("/openapi.json", None).await;
    document.assert_status(200);
    assert_eq!(document.headers["content-type"], "application/json");
    assert!(
        document.json["openapi"]
            .as_str()
            .unwrap()
            .starts_with("3.1")
    );
    let docs = app.get("/docs", None).await;
    docs.assert_status(200);
    assert!(
        docs.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(docs.text.contains("openapi.json"));
    assert!(
        !docs.text.contains("https://cdn")
            && !docs.text.contains("unpkg")
            && !docs.text.contains("jsdelivr")
    );
}
