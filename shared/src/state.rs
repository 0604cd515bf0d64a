//! `AppState`: everything a handler needs that outlives one request, built once per cold start.

use crate::{
    config::{Config, SecretSource},
    cursor::CursorKey,
    db::Db,
    error::BoxError,
    events::Publisher,
    google::GoogleVerifier,
    paystack::Paystack,
    token::TokenKeys,
};
use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use std::{ops::Deref, sync::Arc, time::Duration};

/// Shared by every handler of a function; cloning is a reference-count bump.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub events: Publisher,
    pub http: reqwest::Client,
    pub tokens: TokenKeys,
    pub cursors: CursorKey,
    pub google: GoogleVerifier,
    /// The Paystack client, when Paystack is configured (the payments and webhook functions).
    pub paystack: Option<Paystack>,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The AWS SDK configuration every function uses: endpoints, region and credentials from the standard
/// variables, and timeouts well under a function's own so a dependency that is down fails fast
/// (503) instead of hanging the invocation.
pub async fn aws_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

/// Outbound HTTP (Google's keys, Paystack): rustls, short timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client with default TLS settings")
}

impl AppState {
    /// Reads the configuration and builds every client: the whole cold start of a function.
    pub async fn from_env() -> Result<Self, BoxError> {
        // As text, so a cold start that fails prints the readable list of what is missing.
        let config = Config::from_env().map_err(|err| err.to_string())?;
        let sdk = aws_sdk_config().await;
        Self::build(config, &sdk).await
    }

    pub async fn build(config: Config, sdk: &SdkConfig) -> Result<Self, BoxError> {
        Self::build_with_table_client(config, sdk, aws_sdk_dynamodb::Client::new(sdk)).await
    }

    /// [`AppState::build`] with a DynamoDB client of the caller's (tests point one at a dead endpoint).
    pub async fn build_with_table_client(
        config: Config,
        sdk: &SdkConfig,
        dynamodb: aws_sdk_dynamodb::Client,
    ) -> Result<Self, BoxError> {
        let jwt_secret = resolve_secret(&config.jwt_secret, sdk).await?;
        let http = http_client();
        let paystack = match &config.paystack {
            Some(paystack) => Some(Paystack::new(
                http.clone(),
                paystack,
                crate::config::Secret::new(resolve_secret(&paystack.secret_key, sdk).await?),
            )),
            None => None,
        };
        let state = Inner {
            db: Db::new(dynamodb, config.table_name.clone()),
            events: Publisher::new(aws_sdk_sns::Client::new(sdk), config.topic_arn.clone()),
            tokens: TokenKeys::new(jwt_secret.as_bytes(), config.access_token_ttl),
            cursors: CursorKey::derive(jwt_secret.as_bytes()),
            google: GoogleVerifier::new(
                http.clone(),
                config.google_jwks_url.clone(),
                config.google_client_ids.clone(),
            ),
            paystack,
            http,
            config,
        };
        Ok(Self(Arc::new(state)))
    }

    /// The Paystack client; a 500 if this function was deployed without Paystack's settings
    /// (its `main` refuses to start so, see `Config::require_paystack`).
    pub fn paystack(&self) -> Result<&Paystack, crate::ApiError> {
        self.0
            .paystack
            .as_ref()
            .ok_or_else(|| crate::ApiError::internal("Paystack is not configured"))
    }
}

/// A secret's value: from the environment as given, or from an SSM SecureString.
async fn resolve_secret(source: &SecretSource, sdk: &SdkConfig) -> Result<String, BoxError> {
    match source {
        SecretSource::Value(secret) => Ok(secret.expose().to_string()),
        SecretSource::SsmParameter(name) => {
            let output = aws_sdk_ssm::Client::new(sdk)
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|err| {
                    format!(
                        "reading SSM parameter {name}: {}",
                        crate::error::cause_chain(&err)
                    )
                })?;
            output
                .parameter
                .and_then(|p| p.value)
                .ok_or_else(|| format!("SSM parameter {name} has no value").into())
        }
    }
}
