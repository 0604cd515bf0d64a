//! `GET /.well-known/jwks.json`: the public keys access tokens are checked with, and a rotation of
//! the signing key as the other functions see it.

use devkit::testing::{
    TEST_NEXT_TOKEN_PUBLIC_KEY, TEST_NEXT_TOKEN_SIGNING_KEY, TEST_TOKEN_PUBLIC_KEYS, TestApp,
};
use kitchen::{
    domain::Role,
    token::{Jwks, TokenVerifier},
};
use serde_json::json;

#[tokio::test]
async fn the_jwks_publishes_the_public_key_for_anyone_with_a_cache_lifetime() {
    let app = TestApp::spawn(auth::FUNCTION).await;
    let response = app.get("/.well-known/jwks.json", None).await;
    response.assert_status(200);
    assert_eq!(
        response.headers["cache-control"],
        format!("public, max-age={}", auth::JWKS_MAX_AGE_SECONDS)
    );
    let keys = response.json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!("EdDSA"),
            &json!("sig")
        )
    );
    // Nothing of the private key: an OKP private key would be `d`.
    assert!(key.get("d").is_none(), "{key}");
    let published = TokenVerifier::from_pem(TEST_TOKEN_PUBLIC_KEYS)
        .unwrap()
        .jwks();
    assert_eq!(
        serde_json::from_value::<Jwks>(response.json.clone()).unwrap(),
        published
    );
}

#[tokio::test]
async fn a_token_from_login_verifies_with_the_published_key() {
    let app = TestApp::spawn(auth::FUNCTION).await;
    let caller = app.user(Role::Customer).await;
    let login = app
        .post(
            "/auth/login",
            &json!({"email": caller.user.email.as_ref().unwrap().as_str(), "password": devkit::testing::TEST_PASSWORD}),
            None,
        )
        .await;
    login.assert_status(200);
    let access = login.json["access_token"].as_str().unwrap();
    let jwks: Jwks =
        serde_json::from_value(app.get("/.well-known/jwks.json", None).await.json).unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), Some(jwks.keys[0].kid.as_str()));
    let claims = TokenVerifier::from_jwks(&jwks)
        .unwrap()
        .verify_access(access)
        .unwrap();
    assert_eq!(claims.sub, caller.user.id.as_str());
}

/// The status `GET /me` answers `token` with.
async fn me(app: &TestApp, token: &str) -> u16 {
    app.get("/me", Some(token)).await.status.as_u16()
}

/// A rotation as docs/token-keys.md runs it, on one stack: each stage changes a parameter, and the
/// function's next cold start picks it up.
#[tokio::test]
async fn a_rotation_keeps_every_live_token_valid_until_the_old_key_is_removed() {
    let app = TestApp::spawn(auth::FUNCTION).await;
    let old_caller = app.user(Role::Customer).await;
    // The new public key published beside the old: both live, still signed with the old key.
    let both = format!("{TEST_TOKEN_PUBLIC_KEYS}{TEST_NEXT_TOKEN_PUBLIC_KEY}");
    app.put_stack_secret("TokenPublicKeysParameterName", &both)
        .await;
    let both_live = app.with_function(auth::FUNCTION).await;
    let jwks = both_live.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.json["keys"].as_array().unwrap().len(), 2);
    assert_eq!(me(&both_live, &old_caller.access_token).await, 200);
    // The signing key switched: new tokens name the new key, the old ones still verify.
    app.put_stack_secret("TokenSigningKeyParameterName", TEST_NEXT_TOKEN_SIGNING_KEY)
        .await;
    let switched = app.with_function(auth::FUNCTION).await;
    let new_caller = switched.user(Role::Customer).await;
    let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    assert_ne!(kid(&old_caller.access_token), kid(&new_caller.access_token));
    assert!(
        TokenVerifier::from_pem(TEST_NEXT_TOKEN_PUBLIC_KEY)
            .unwrap()
            .contains(&kid(&new_caller.access_token))
    );
    assert_eq!(me(&switched, &old_caller.access_token).await, 200);
    assert_eq!(me(&switched, &new_caller.access_token).await, 200);
    // The old public key removed (after the access-token lifetime): only new tokens are accepted.
    app.put_stack_secret("TokenPublicKeysParameterName", TEST_NEXT_TOKEN_PUBLIC_KEY)
        .await;
    let after = app.with_function(auth::FUNCTION).await;
    assert_eq!(me(&after, &old_caller.access_token).await, 401);
    assert_eq!(me(&after, &new_caller.access_token).await, 200);
    let jwks = after.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.json["keys"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_signing_key_whose_public_key_is_not_published_stops_the_cold_start() {
    let app = TestApp::spawn(auth::FUNCTION).await;
    app.put_stack_secret("TokenSigningKeyParameterName", TEST_NEXT_TOKEN_SIGNING_KEY)
        .await;
    let cold_start = tokio::spawn(async move { app.with_function(auth::FUNCTION).await });
    let Err(err) = cold_start.await else {
        panic!("the cold start must fail");
    };
    let message = err
        .into_panic()
        .downcast::<String>()
        .map(|text| *text)
        .unwrap_or_default();
    assert!(
        message.contains("is not among the public keys"),
        "{message}"
    );
}
