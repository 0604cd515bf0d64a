//! `kitchen-admin`: makes someone an admin of Kitchen API, in whatever table the AWS environment
//! points at — the way the first admin comes to exist in a fresh deployment.
//!
//! ```text
//! TABLE_NAME=kitchen-Table-ABC123 AWS_PROFILE=prod kitchen-admin create --email chef@example.com
//! ```
//!
//! The password is read from `KITCHEN_ADMIN_PASSWORD` or, if that is unset, from the first line of
//! standard input (so it never appears in the shell history or the process list). An existing
//! account is promoted; `--keep-password` promotes it without asking for a password.

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use kitchen::{
    app::ensure_admin::{AdminOutcome, ensure_admin},
    db::Db,
    domain::{Email, Password},
};
use std::io::BufRead;

#[derive(Parser)]
#[command(version, about = "Creates or promotes a Kitchen API admin")]
struct Cli {
    /// The table to write to (the stack's TableName output).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an admin account, or promote the account that holds this email.
    Create {
        #[arg(long)]
        email: String,
        /// Promote an existing account without changing its password.
        #[arg(long)]
        keep_password: bool,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let table = cli
        .table
        .context("name the table with --table or TABLE_NAME")?;
    let Command::Create {
        email,
        keep_password,
    } = cli.command;
    let email = Email::parse(&email).map_err(|e| anyhow!("--email {e}"))?;
    let password = if keep_password {
        None
    } else {
        Some(read_password()?)
    };

    let sdk = kitchen::state::aws_sdk_config().await;
    let db = Db::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let (user, outcome) = ensure_admin(&db, &email, password.as_ref()).await?;
    let what = match outcome {
        AdminOutcome::Created => "created",
        AdminOutcome::Promoted => "promoted",
    };
    println!("{what} admin {email} (user id {})", user.id);
    Ok(())
}

fn read_password() -> Result<Password> {
    let text = match std::env::var("KITCHEN_ADMIN_PASSWORD") {
        Ok(value) if !value.is_empty() => value,
        _ => {
            eprintln!("password (8–128 characters), then Enter:");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    Password::parse(&text).map_err(|e| anyhow!("the password {e}"))
}
