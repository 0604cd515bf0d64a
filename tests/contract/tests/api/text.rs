//! The OpenAPI document's text patterns and the domain's text rules (control and format characters,
//! one line or several, not blank) give the same answer, character by character: what the document
//! allows in a name the API accepts, and what it forbids the API refuses. The document lists the
//! format characters (Unicode category Cf) by hand in openapi/gen.py; this is what keeps that list
//! equal to the server's general-category table.

use kitchen::domain::{Address, CancelReason, Description, DishName, PersonName};
use serde_json::Value;

/// Every code point of the Basic Multilingual Plane, every one of the planes above within a few
/// of a format character, and a sample of the rest.
fn code_points() -> Vec<char> {
    const ASTRAL_FORMAT: [(u32, u32); 7] = [
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
    ];
    let near_format = |c: u32| {
        ASTRAL_FORMAT
            .iter()
            .any(|&(from, to)| (from.saturating_sub(3)..=to + 3).contains(&c))
    };
    (0..=0x10FFFF_u32)
        .filter(|&c| c <= 0xFFFF || near_format(c) || c % 251 == 0)
        .filter_map(char::from_u32)
        .collect()
}

/// Each field with the text rule it follows: where its schema is in the document, and whether the
/// domain type accepts a text.
type Case = (&'static str, fn(&str) -> bool);

const CASES: [Case; 5] = [
    (
        "/components/schemas/ProfilePatch/properties/first_name",
        |text| PersonName::parse(text).is_ok(),
    ),
    (
        "/components/schemas/ProfilePatch/properties/address",
        |text| Address::parse(text).is_ok(),
    ),
    ("/components/schemas/DishPatch/properties/name", |text| {
        DishName::parse(text).is_ok()
    }),
    (
        "/components/schemas/DishPatch/properties/description",
        |text| Description::parse(text).is_ok(),
    ),
    (
        "/components/schemas/OrderStatusChange/oneOf/1/properties/reason",
        |text| CancelReason::parse(text).is_ok(),
    ),
];

#[test]
fn the_document_and_the_api_agree_on_every_character_of_typed_text() {
    let document: Value = serde_json::from_str(dishes::OPENAPI).expect("openapi.json is JSON");
    let points = code_points();
    for (pointer, accepts) in CASES {
        let schema = document
            .pointer(pointer)
            .expect("the field is in the document");
        let validator = jsonschema::validator_for(schema).expect("the field's schema compiles");
        let mut disagreements = Vec::new();
        for &c in &points {
            // Inside a word, and alone (where white space makes the text blank).
            for text in [format!("a{c}b"), c.to_string()] {
                if validator.is_valid(&Value::String(text.clone())) != accepts(&text) {
                    disagreements.push(format!("U+{:04X} in {text:?}", c as u32));
                }
            }
        }
        assert!(
            disagreements.is_empty(),
            "{pointer}: openapi.json and the API disagree on {} texts, first {:?}",
            disagreements.len(),
            &disagreements[..disagreements.len().min(10)]
        );
    }
}
