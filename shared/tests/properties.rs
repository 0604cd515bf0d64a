//! Properties of the parsers that face the internet: whatever arrives, they answer without
//! panicking, accept exactly what they should, and round-trip what we produce.

use aws_sdk_dynamodb::types::AttributeValue;
use hmac::{Hmac, Mac};
use kitchen::{
    config::Secret,
    cursor::CursorKey,
    db::Item,
    domain::{Email, PhoneNumber, Price, Quantity, Role, SessionId, UserId},
    paystack::WebhookKey,
    token::{RefreshToken, TokenKeys, TokenVerifier},
};
use proptest::prelude::*;
use std::time::Duration;

/// The development keys of tools/dev-keys (never trusted by a deployment).
fn signing_key() -> TokenKeys {
    TokenKeys::from_pem(
        include_str!("../../tools/dev-keys/token-signing-dev.pem"),
        Duration::from_secs(60),
    )
    .unwrap()
}

fn verifier() -> TokenVerifier {
    TokenVerifier::from_pem(include_str!("../../tools/dev-keys/token-public-dev.pem")).unwrap()
}

fn paystack(secret: &str) -> WebhookKey {
    WebhookKey::new(Secret::new(secret))
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

proptest! {
    #[test]
    fn a_webhook_signature_verifies_exactly_its_body(
        secret in "sk_test_[a-z0-9]{8,40}",
        body in proptest::collection::vec(any::<u8>(), 0..512),
        flip in any::<prop::sample::Index>(),
    ) {
        let paystack = paystack(&secret);
        let signature = sign(&secret, &body);
        prop_assert!(paystack.signature_is_valid(&body, &signature));
        prop_assert!(paystack.signature_is_valid(&body, &signature.to_uppercase()));
        prop_assert!(!paystack.signature_is_valid(&body, &sign("another-secret", &body)));
        if !body.is_empty() {
            let mut tampered = body.clone();
            let i = flip.index(tampered.len());
            tampered[i] ^= 0x01;
            prop_assert!(!paystack.signature_is_valid(&tampered, &signature));
        }
    }

    #[test]
    fn any_signature_header_is_answered_without_panicking(header in ".{0,300}", body in ".{0,300}") {
        prop_assert!(!paystack("sk_test_secret").signature_is_valid(body.as_bytes(), &header));
    }

    #[test]
    fn any_bearer_token_is_refused_without_panicking(token in ".{0,400}") {
        prop_assert!(verifier().verify_access(&token).is_err());
    }

    #[test]
    fn issued_access_tokens_verify(role in prop_oneof![Just(Role::Customer), Just(Role::Admin)]) {
        let (user, session) = (UserId::new(), SessionId::new());
        let token = signing_key().issue_access(&user, &session, role, kitchen::now()).unwrap();
        let claims = verifier().verify_access(&token).unwrap();
        prop_assert_eq!(claims.sub, user.to_string());
        prop_assert_eq!(claims.role, role);
    }

    #[test]
    fn refresh_tokens_parse_only_in_their_own_shape(raw in ".{0,200}") {
        if let Some(token) = RefreshToken::parse(&raw) {
            prop_assert_eq!(token.expose(), raw);
        }
        let made = RefreshToken::generate(UserId::new(), SessionId::new());
        prop_assert_eq!(RefreshToken::parse(&made.expose()), Some(made));
    }

    #[test]
    fn cursors_round_trip_and_nothing_else_decodes(
        pk in "[A-Z]{1,8}#[A-Z0-9]{1,26}",
        sk in "[A-Z#0-9-]{1,40}",
        scope in "[a-z|0-9-]{1,40}",
        junk in ".{0,200}",
    ) {
        let keys = CursorKey::derive(b"cursor-secret");
        let start: Item = Item::from([
            ("pk".to_string(), AttributeValue::S(pk)),
            ("sk".to_string(), AttributeValue::S(sk)),
        ]);
        let cursor = keys.encode(&scope, &start);
        prop_assert_eq!(keys.decode(&scope, &cursor).unwrap(), start);
        let other_scope = format!("{scope}x");
        prop_assert!(keys.decode(&other_scope, &cursor).is_err());
        prop_assert!(keys.decode(&scope, &junk).is_err());
    }

    #[test]
    fn prices_and_quantities_accept_exactly_their_range(kobo in any::<i64>(), count in any::<u32>()) {
        prop_assert_eq!(Price::parse(kobo).is_ok(), (1..=Price::MAX).contains(&kobo));
        prop_assert_eq!(Quantity::parse(count).is_ok(), (1..=50).contains(&count));
    }

    #[test]
    fn e164_numbers_are_accepted_and_other_text_never_panics(
        country in "[1-9][0-9]{0,2}",
        rest in "[0-9]{7,11}",
        junk in ".{0,40}",
    ) {
        let number = format!("+{country}{rest}");
        let digits = number.len() - 1;
        prop_assert_eq!(PhoneNumber::parse(&number).is_ok(), (8..=15).contains(&digits));
        let _ = PhoneNumber::parse(&junk);
    }

    #[test]
    fn emails_are_case_and_space_insensitive(local in "[a-z0-9._]{1,20}", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}", junk in ".{0,80}") {
        let plain = format!("{local}@{domain}");
        let shouted = format!("  {}  ", plain.to_uppercase());
        prop_assert_eq!(Email::parse(&shouted).unwrap(), Email::parse(&plain).unwrap());
        if let Ok(email) = Email::parse(&junk) {
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
        }
    }
}
