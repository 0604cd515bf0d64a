//! Account emails (the verification and reset links), sent through Amazon SES v2 `SendEmail` from
//! the configured sender. Plain text, short, saying what to do; the link on a line of its own.
//!
//! Locally and in tests the SES endpoint is moto's, which keeps every sent message for
//! `GET /moto-api/data.json` (where `make dev` prints them from).

use crate::domain::Email;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

/// One email: a subject and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the email could not be sent")]
pub struct SendError(#[source] pub crate::error::BoxError);

/// The SES client and the address mail comes from; built once per cold start.
#[derive(Debug, Clone)]
pub struct Mailer {
    client: aws_sdk_sesv2::Client,
    from: String,
}

impl Mailer {
    pub fn new(client: aws_sdk_sesv2::Client, from: &Email) -> Self {
        Self {
            client,
            from: from.to_string(),
        }
    }

    pub async fn send(&self, to: &Email, letter: &Letter) -> Result<(), SendError> {
        let content = |text: &str| {
            Content::builder()
                .data(text)
                .charset("UTF-8")
                .build()
                .map_err(|err| SendError(err.into()))
        };
        let message = Message::builder()
            .subject(content(&letter.subject)?)
            .body(Body::builder().text(content(&letter.text)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|err| SendError(Box::new(aws_sdk_sesv2::Error::from(err))))?;
        Ok(())
    }
}

/// What sends account emails: the SES client and the links' base address.
#[derive(Debug, Clone)]
pub struct Mail {
    pub mailer: Mailer,
    pub links: Links,
}

/// The links in account emails, made from the API's public address.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    /// `public_api_url` without a trailing slash: `https://api.example.com`.
    pub fn new(public_api_url: &str) -> Self {
        Self {
            base: public_api_url.trim_end_matches('/').to_string(),
        }
    }

    fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.base)
    }

    /// The email that asks a new account's holder to confirm the address.
    pub fn verification(&self, name: Option<&str>, token: &str) -> Letter {
        let link = self.link("/auth/email/verify", token);
        Letter {
            subject: "Confirm your email address".into(),
            text: format!(
                "{greeting}\n\nOpen this link to confirm that this is your email address:\n\n{link}\n\n\
                 The link works for 48 hours. You need a confirmed email to place orders.\n\n\
                 If you did not create an account with us, ignore this email.\n",
                greeting = greeting(name),
            ),
        }
    }

    /// The email that lets an account's holder choose a new password.
    pub fn reset(&self, name: Option<&str>, token: &str) -> Letter {
        let link = self.link("/auth/password/reset", token);
        Letter {
            subject: "Reset your password".into(),
            text: format!(
                "{greeting}\n\nOpen this link to choose a new password:\n\n{link}\n\n\
                 The link works for 30 minutes, once. Choosing a new password signs you out everywhere.\n\n\
                 If you did not ask to reset your password, ignore this email: your password stays as it is.\n",
                greeting = greeting(name),
            ),
        }
    }
}

fn greeting(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_is_on_a_line_of_its_own_with_the_token_in_its_query() {
        let links = Links::new("https://api.example.com/");
        for (letter, path) in [
            (
                links.verification(Some("Ada"), "tok.en"),
                "/auth/email/verify",
            ),
            (links.reset(None, "tok.en"), "/auth/password/reset"),
        ] {
            let line = format!("https://api.example.com{path}?token=tok.en");
            assert!(letter.text.lines().any(|l| l == line), "{}", letter.text);
            assert!(!letter.subject.is_empty());
        }
        assert!(
            links
                .verification(Some("Ada"), "t")
                .text
                .starts_with("Hello Ada,")
        );
    }
}
