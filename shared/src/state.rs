//! `AppState`: everything a handler needs that outlives one request, built once per cold start.

use crate::{
    config::{Config, SecretSource, Setting},
    cursor::CursorKey,
    db::Db,
    error::BoxError,
    events::Publisher,
    google::GoogleVerifier,
    paystack::{Paystack, WebhookKey},
    token::{TokenKeys, TokenVerifier},
};
use aws_config::{BehaviorVersion, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use std::{ops::Deref, sync::Arc, time::Duration};

/// Shared by every handler of a function; cloning is a reference-count bump.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What one function holds. Each part is built only if the function's settings configure it (see
/// [`crate::config::Setting`]): only the auth function holds the token signing key, the webhook
/// and the notifier hold no token or cursor key, and only the functions that call Paystack or
/// Google have an HTTP client.
pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub events: Publisher,
    tokens: Option<TokenKeys>,
    token_verifier: Option<TokenVerifier>,
    cursors: Option<CursorKey>,
    google: Option<GoogleVerifier>,
    mail: Option<crate::email::Mail>,
    paystack: Option<Paystack>,
    webhook_key: Option<WebhookKey>,
    /// The kitchen's rules for orders, from `config`.
    pub rules: crate::app::OrderRules,
    /// How sessions are issued and sign-ins throttled, from `config`.
    account_settings: crate::app::sign_in::AccountSettings,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The AWS SDK configuration the tools use (kitchen-admin, the local set-up, tests): endpoints, region
/// and credentials from the standard variables, profiles and the rest of the SDK's default chain, and
/// timeouts well under a function's own so a dependency that is down fails fast (503) instead of
/// hanging the invocation.
pub async fn aws_sdk_config() -> SdkConfig {
    sdk_defaults().load().await
}

/// The AWS SDK configuration of the functions: as [`aws_sdk_config`], but with credentials only from
/// the environment, where Lambda puts the function role's. The default chain's other sources
/// (profiles, SSO, web identity, container and instance metadata) would only read files and build
/// clients of their own at every cold start.
pub async fn function_sdk_config() -> SdkConfig {
    sdk_defaults()
        .credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .load()
        .await
}

fn sdk_defaults() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(sdk_https_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
}

/// The root certificates outbound HTTPS trusts: Mozilla's, compiled in. The clients' default is to
/// read the system's certificate store when they are built, which costs a cold start several
/// milliseconds and ties trust to the runtime image's files.
fn trusted_roots() -> impl Iterator<Item = &'static [u8]> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|cert| cert.as_ref())
}

/// The roots the AWS clients trust: Amazon Trust Services' five (Amazon Root CA 1 to 4, and the
/// Starfield Services root that cross-signs them), copied from [`trusted_roots`]. Every AWS endpoint
/// the functions call (DynamoDB, SNS, SES, SSM) presents a certificate that chains to one of them;
/// AWS moved its service endpoints to its own CA from 2018 on. The SDK takes roots only as PEM and
/// decodes them again for every connector it builds (one per client, and one more at the first
/// request), so Mozilla's 140-odd roots cost a cold start about 25 million instructions, most of
/// its CPU (callgrind on a cold start; README, `make bench`). These five cost under a million.
const AMAZON_ROOTS_PEM: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The SDK's HTTPS client: rustls (aws-lc) trusting [`AMAZON_ROOTS_PEM`] only.
fn sdk_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    let roots = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_ROOTS_PEM);
    let context = TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .expect("a TLS context from built-in roots");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https()
}

/// The client for outbound HTTP (Paystack's API, Google's keys), built at its first use. Only the
/// functions that may call out hold one, and most of their invocations never do (orders and admin
/// call Paystack only to refund), so a cold start does not pay for its TLS set-up (about 0.6
/// million instructions) until a call needs it. Clones share the one client and its connections.
#[derive(Clone, Default)]
pub struct OutboundHttp(Arc<std::sync::OnceLock<reqwest::Client>>);

impl Deref for OutboundHttp {
    type Target = reqwest::Client;
    fn deref(&self) -> &reqwest::Client {
        self.0.get_or_init(http_client)
    }
}

/// Outbound HTTP (Google's keys, Paystack): rustls trusting [`trusted_roots`], short timeouts.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only(trusted_roots().filter_map(|der| reqwest::Certificate::from_der(der).ok()))
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client with default TLS settings")
}

/// One HTTP function as its `main` and the tests see it: its name (its binary's, which template.yaml
/// names in `BuildProperties.Binary`), the settings it reads, and its router.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub settings: &'static [Setting],
    pub router: fn(AppState) -> axum::Router,
}

impl Function {
    /// The whole life of the function's instance: logging, configuration and clients once (the cold
    /// start), then every invocation through lambda_http.
    pub async fn run(self) -> Result<(), lambda_http::Error> {
        crate::telemetry::init();
        let state = AppState::from_env(self.settings).await?;
        lambda_http::run((self.router)(state)).await
    }
}

impl AppState {
    /// Reads the configuration of a function that reads `settings` and builds every client: the whole
    /// cold start of a function.
    pub async fn from_env(settings: &[Setting]) -> Result<Self, BoxError> {
        // As text, so a cold start that fails prints the readable list of what is missing.
        let config = Config::from_env(settings).map_err(|err| err.to_string())?;
        let sdk = function_sdk_config().await;
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
        // The clients need no secret, so they are built while the secrets' one SSM round trip is
        // under way on another task.
        let secrets = Secrets::read_in_background(&config, sdk);
        let db = Db::new(dynamodb, config.table_name.clone());
        let events = match &config.topic_arn {
            Some(topic) => Publisher::new(aws_sdk_sns::Client::new(sdk), topic.clone()),
            None => Publisher::without_topic(),
        };
        let mail = config.email.as_ref().map(|email| crate::email::Mail {
            mailer: crate::email::Mailer::new(aws_sdk_sesv2::Client::new(sdk), &email.from),
            links: crate::email::Links::new(&email.public_api_url),
        });
        let secrets = secrets
            .await
            .map_err(|err| format!("reading the secrets: {err}"))??;
        let tokens = match &config.token_signing_key {
            Some(source) => Some(
                TokenKeys::from_pem(secrets.value(source), config.access_token_ttl)
                    .map_err(|err| key_problem(source, "TOKEN_SIGNING_KEY", err))?,
            ),
            None => None,
        };
        let token_verifier = match &config.token_public_keys {
            Some(source) => Some(
                TokenVerifier::from_pem(secrets.value(source))
                    .map_err(|err| key_problem(source, "TOKEN_PUBLIC_KEYS", err))?,
            ),
            None => None,
        };
        // Tokens that no function would accept: the rotation's order was not kept (docs/token-keys.md).
        if let (Some(tokens), Some(verifier), Some(source)) =
            (&tokens, &token_verifier, &config.token_public_keys)
            && !verifier.contains(tokens.kid())
        {
            return Err(format!(
                "the token signing key (kid {}) is not among the public keys of {}: add its public \
                 key there, and let every function pick it up, before signing with it",
                tokens.kid(),
                where_from(source, "TOKEN_PUBLIC_KEYS")
            )
            .into());
        }
        let cursors = match &config.cursor_key {
            Some(source) => Some(
                CursorKey::parse(secrets.value(source))
                    .map_err(|err| key_problem(source, "CURSOR_KEY", err))?,
            ),
            None => None,
        };
        // One HTTP client, and only for a function that calls out: Paystack's API or Google's keys.
        let http =
            (config.paystack.is_some() || config.google.is_some()).then(OutboundHttp::default);
        let paystack = match (&config.paystack, &http) {
            (Some(paystack), Some(http)) => Some(Paystack::new(
                http.clone(),
                paystack,
                crate::config::Secret::new(secrets.value(&paystack.secret_key)),
            )),
            _ => None,
        };
        let webhook_key = config.paystack_webhook.as_ref().map(|webhook| {
            WebhookKey::new(crate::config::Secret::new(
                secrets.value(&webhook.secret_key),
            ))
        });
        let google = match (&config.google, &http) {
            (Some(google), Some(http)) => Some(GoogleVerifier::new(
                http.clone(),
                google.jwks_url.clone(),
                google.client_ids.clone(),
            )),
            _ => None,
        };
        let state = Inner {
            db,
            events,
            tokens,
            token_verifier,
            cursors,
            google,
            mail,
            paystack,
            webhook_key,
            account_settings: crate::app::sign_in::AccountSettings::from_config(&config),
            rules: crate::app::OrderRules {
                kitchen_zone: config.kitchen_zone.clone(),
                unpaid_order_expiry: config.unpaid_order_expiry,
                kitchen_alerts: config.kitchen_alerts,
            },
            config,
        };
        Ok(Self(Arc::new(state)))
    }

    /// The account workflows (a function with the token signing key and account emails).
    pub fn accounts(&self) -> Result<crate::app::sign_in::Accounts<'_>, crate::ApiError> {
        Ok(crate::app::sign_in::Accounts {
            db: &self.db,
            tokens: self.tokens()?,
            mail: configured(&self.mail, "account emails")?,
            settings: self.account_settings,
        })
    }

    /// The Google sign-in workflow.
    pub fn accounts_with_google(
        &self,
    ) -> Result<crate::app::google_sign_in::GoogleSignIn<'_>, crate::ApiError> {
        Ok(crate::app::google_sign_in::GoogleSignIn {
            accounts: self.accounts()?,
            google: self.google()?,
        })
    }

    /// The public menu.
    pub fn menu(&self) -> crate::app::menu::Menu<'_> {
        crate::app::menu::Menu {
            db: &self.db,
            kitchen_zone: &self.rules.kitchen_zone,
        }
    }

    /// The kitchen's settings.
    pub fn calendar(&self) -> crate::app::calendar::Calendar<'_> {
        crate::app::calendar::Calendar {
            db: &self.db,
            default_zone: &self.rules.kitchen_zone,
        }
    }

    /// The staff's dish workflows.
    pub fn admin_dishes(&self) -> crate::app::admin_dishes::Dishes<'_> {
        crate::app::admin_dishes::Dishes { db: &self.db }
    }

    /// The staff's user workflows.
    pub fn admin_users(&self) -> crate::app::admin_users::Users<'_> {
        crate::app::admin_users::Users { db: &self.db }
    }

    /// The staff's payment listing.
    pub fn payment_ledger(&self) -> crate::app::admin_payments::PaymentLedger<'_> {
        crate::app::admin_payments::PaymentLedger { db: &self.db }
    }

    /// The cart workflows.
    pub fn carts(&self) -> crate::app::cart::Carts<'_> {
        crate::app::cart::Carts { db: &self.db }
    }

    /// The order workflows.
    pub fn orders(&self) -> crate::app::Orders<'_> {
        crate::app::Orders {
            db: &self.db,
            events: &self.events,
            rules: &self.rules,
        }
    }

    /// The payment workflows; a 500 if this function was deployed without Paystack's settings.
    pub fn payments(&self) -> Result<crate::app::Payments<'_>, crate::ApiError> {
        Ok(crate::app::Payments {
            orders: self.orders(),
            paystack: self.paystack()?,
        })
    }

    /// The refund workflows; a 500 if this function was deployed without Paystack's settings.
    pub fn refunds(&self) -> Result<crate::app::refunds::Refunds<'_>, crate::ApiError> {
        Ok(self.payments()?.refunds())
    }

    /// The Paystack client (a function with [`Setting::Paystack`]).
    pub fn paystack(&self) -> Result<&Paystack, crate::ApiError> {
        configured(&self.paystack, "Paystack")
    }

    /// The key of Paystack's webhook signatures (a function with [`Setting::PaystackWebhook`]).
    pub fn webhook_key(&self) -> Result<&WebhookKey, crate::ApiError> {
        configured(&self.webhook_key, "Paystack's webhook key")
    }

    /// The key that signs access tokens (a function with [`Setting::TokenSigningKey`]: auth).
    pub fn tokens(&self) -> Result<&TokenKeys, crate::ApiError> {
        configured(&self.tokens, "the token signing key")
    }

    /// The public keys access tokens are checked with (a function with
    /// [`Setting::TokenPublicKeys`]).
    pub fn token_verifier(&self) -> Result<&TokenVerifier, crate::ApiError> {
        configured(&self.token_verifier, "the token public keys")
    }

    /// The page cursors' key (a function with [`Setting::CursorKey`]).
    pub fn cursors(&self) -> Result<&CursorKey, crate::ApiError> {
        configured(&self.cursors, "the cursor key")
    }

    /// The Google ID token verifier (a function with [`Setting::Google`]).
    pub fn google(&self) -> Result<&GoogleVerifier, crate::ApiError> {
        configured(&self.google, "Google sign-in")
    }
}

/// A part the function's settings build; a 500 if a route of a function without the setting asks
/// for it (a wiring fault: the route belongs to another function).
fn configured<'a, T>(part: &'a Option<T>, what: &str) -> Result<&'a T, crate::ApiError> {
    part.as_ref().ok_or_else(|| {
        crate::ApiError::internal(format!("{what} is not configured in this function"))
    })
}

/// Where a key came from, for an error: the SSM parameter (and the variable naming it) or the
/// variable holding it.
fn where_from(source: &SecretSource, variable: &str) -> String {
    match source {
        SecretSource::SsmParameter(name) => {
            format!("SSM parameter {name} ({variable}_PARAMETER)")
        }
        SecretSource::Value(_) => variable.to_string(),
    }
}

fn key_problem(source: &SecretSource, variable: &str, why: impl std::fmt::Display) -> BoxError {
    format!("{} {why}", where_from(source, variable)).into()
}

/// Every secret a function's settings name: the values given in the environment, and those in SSM,
/// read at the cold start in one `GetParameters` round trip, however many the function holds.
struct Secrets(std::collections::HashMap<String, String>);

impl Secrets {
    /// Starts reading them on a task of its own, so that the cold start goes on meanwhile; the
    /// answer is the task's.
    fn read_in_background(
        config: &Config,
        sdk: &SdkConfig,
    ) -> tokio::task::JoinHandle<Result<Self, String>> {
        let names = Self::in_ssm(config);
        let sdk = sdk.clone();
        tokio::spawn(async move { Self::read(names, &sdk).await.map_err(|err| err.to_string()) })
    }

    /// The SSM parameters among `config`'s secrets, each once.
    fn in_ssm(config: &Config) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for source in [
            config.token_signing_key.as_ref(),
            config.token_public_keys.as_ref(),
            config.cursor_key.as_ref(),
            config.paystack.as_ref().map(|p| &p.secret_key),
            config.paystack_webhook.as_ref().map(|w| &w.secret_key),
        ]
        .into_iter()
        .flatten()
        {
            if let SecretSource::SsmParameter(name) = source
                && !names.contains(name)
            {
                names.push(name.clone());
            }
        }
        names
    }

    async fn read(names: Vec<String>, sdk: &SdkConfig) -> Result<Self, BoxError> {
        if names.is_empty() {
            return Ok(Self(Default::default()));
        }
        let output = aws_sdk_ssm::Client::new(sdk)
            .get_parameters()
            .set_names(Some(names.clone()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|err| {
                format!(
                    "reading SSM parameters {}: {}",
                    names.join(", "),
                    crate::error::cause_chain(&err)
                )
            })?;
        if !output.invalid_parameters().is_empty() {
            return Err(format!(
                "SSM parameters not found: {}",
                output.invalid_parameters().join(", ")
            )
            .into());
        }
        let values: std::collections::HashMap<String, String> = output
            .parameters()
            .iter()
            .filter_map(|p| Some((p.name()?.to_string(), p.value()?.to_string())))
            .collect();
        if let Some(missing) = names.iter().find(|name| !values.contains_key(*name)) {
            return Err(format!("SSM parameter {missing} has no value").into());
        }
        Ok(Self(values))
    }

    /// The value of `source`, which [`Secrets::read`] was given.
    fn value<'a>(&'a self, source: &'a SecretSource) -> &'a str {
        match source {
            SecretSource::Value(secret) => secret.expose(),
            SecretSource::SsmParameter(name) => self.0.get(name).map_or("", String::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn the_aws_clients_trust_amazon_trust_services_five_roots_from_mozillas_list() {
        let blocks: Vec<Vec<u8>> = std::str::from_utf8(AMAZON_ROOTS_PEM)
            .unwrap()
            .split("-----END CERTIFICATE-----")
            .filter(|block| block.contains("-----BEGIN CERTIFICATE-----"))
            .map(|block| {
                let body: String = block
                    .lines()
                    .filter(|line| !line.is_empty() && !line.starts_with("-----"))
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap()
            })
            .collect();
        let names = [
            "Amazon Root CA 1",
            "Amazon Root CA 2",
            "Amazon Root CA 3",
            "Amazon Root CA 4",
            "Starfield Services Root Certificate Authority - G2",
        ];
        assert_eq!(blocks.len(), names.len());
        for (der, name) in blocks.iter().zip(names) {
            assert!(
                der.windows(name.len())
                    .any(|bytes| bytes == name.as_bytes()),
                "{name} in its place"
            );
            assert!(
                trusted_roots().any(|root| root == der.as_slice()),
                "{name} exactly as Mozilla's list has it"
            );
        }
    }

    #[test]
    fn the_outbound_client_is_built_at_its_first_use_and_shared_by_its_clones() {
        let http = OutboundHttp::default();
        let clone = http.clone();
        assert!(
            http.0.get().is_none(),
            "nothing built before a call needs it"
        );
        assert!(std::ptr::eq(&*http, &*clone));
        assert!(clone.0.get().is_some());
    }

    #[tokio::test]
    async fn both_clients_build_from_the_built_in_roots() {
        // Building a service client builds its TLS connector, which parses every root.
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .http_client(sdk_https_client())
            .build();
        let _ = aws_sdk_dynamodb::Client::from_conf(config);
        let _ = http_client();
    }
}
