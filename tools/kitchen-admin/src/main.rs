//! `kitchen-admin`: makes someone an admin of Kitchen API, in whatever table the AWS environment
//! points at — the way the first admin comes to exist in a fresh deployment.
//!
//! ```text
//! TABLE_NAME=kitchen-Table-ABC123 AWS_PROFILE=prod kitchen-admin create --email chef@example.com
//! ```
//!
//! The password is read from `KITCHEN_ADMIN_PASSWORD` or, if that is unset, from the first line of
//! standard input (so it never appears in the shell history or the process list).
//!
//! An email that already has an account is refused, and nothing changes, unless `--promote-existing`
//! says to take that account over: it then becomes an active admin with the new password, and every
//! session it had ends (whoever held it before keeps no token that works). An account that is already
//! an active admin with that password is left as it is and the run succeeds, so running the same
//! command again is harmless. `--keep-password` asks no password and only confirms that the email
//! belongs to an active admin.

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use kitchen::{
    app::ensure_admin::{AdminOutcome, EnsureAdminError, Existing, ensure_admin},
    db::Db,
    domain::{Email, Password},
};
use std::io::BufRead;

/// The flag that takes over an account that already holds the email.
const PROMOTE_FLAG: &str = "--promote-existing";

#[derive(Parser)]
#[command(
    version,
    about = "Creates a Kitchen API admin, or promotes an existing account when told to"
)]
struct Cli {
    /// The table to write to (the stack's TableName output).
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an admin account with this email and a new password.
    ///
    /// The password comes from KITCHEN_ADMIN_PASSWORD, or else the first line of standard input.
    /// An email that already has an account is refused and nothing changes, unless
    /// --promote-existing is given. An account that is already an active admin with that password
    /// is left as it is (its sessions too), and the command succeeds: running it again is harmless.
    Create {
        /// The admin's email (stored lower-cased).
        #[arg(long)]
        email: String,
        /// Take over the account that already holds the email: it becomes an active admin with the
        /// new password, and every session it had is ended (its tokens stop working). Also resets
        /// an admin's password.
        #[arg(long, conflicts_with = "keep_password")]
        promote_existing: bool,
        /// Ask no password: only confirm that the email belongs to an active admin, changing nothing.
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
        promote_existing,
        keep_password,
    } = cli.command;
    let email = Email::parse(&email).map_err(|e| anyhow!("--email {e}"))?;
    let password = if keep_password {
        None
    } else {
        Some(read_password()?)
    };
    let existing = if promote_existing {
        Existing::Promote
    } else {
        Existing::Refuse
    };

    let sdk = kitchen::state::aws_sdk_config().await;
    let db = Db::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let (user, outcome) = match ensure_admin(&db, &email, password.as_ref(), existing).await {
        Ok(done) => done,
        Err(err @ EnsureAdminError::AccountExists { .. }) if keep_password => {
            return Err(anyhow!(
                "{err}. --keep-password only confirms an active admin; to make that account one, \
                 run without it and with {PROMOTE_FLAG}."
            ));
        }
        Err(err @ EnsureAdminError::AccountExists { .. }) => {
            return Err(anyhow!(
                "{err}. To make that account an admin, run again with {PROMOTE_FLAG}: it gets the \
                 new password and every session it has is ended."
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let id = &user.id;
    match outcome {
        AdminOutcome::Created => println!("created admin {email} (user id {id})"),
        AdminOutcome::Promoted => println!(
            "promoted admin {email} (user id {id}): new password set, every session it had ended"
        ),
        AdminOutcome::AlreadyAdmin => {
            println!("already an admin: {email} (user id {id}); nothing changed")
        }
    }
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
