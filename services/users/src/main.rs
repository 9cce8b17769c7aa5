//! `users`: runs the users service, or an operator command:
//!
//! ```text
//! users                                  serve (the default)
//! users generate-keys DIR                write a root key pair into DIR, once
//! users mint-service-token NAME [DAYS]   print a service credential (default 365 days), exchanged
//!                                        by the service for 15-minute service tokens
//! users create-staff USERNAME            create or reset a KITCHEN_STAFF account; the password
//!                                        comes from STAFF_PASSWORD (or the file STAFF_PASSWORD_FILE
//!                                        names) or the first line of stdin
//! ```

use anyhow::Context as _;
use std::io::Write as _;
use std::time::Duration;

/// Every password hash takes a 19 MiB buffer; glibc keeps freed ones in per-thread arenas (180
/// MiB after a burst of sign-ins), mimalloc hands them back. Only here: with many sockets open,
/// mimalloc costs the other services more memory than glibc (see ci/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    service_kit::telemetry::init("users");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["serve"] => {
            let config = users::Config::from_env()?;
            let app = users::Application::build(config).await?;
            tracing::info!(http = %app.http_addr(), ops = %app.ops_addr(), grpc = %app.grpc_addr(), "users ready");
            service_kit::shutdown::run_until_signalled(app.stop()).await
        }
        ["generate-keys", dir] => users::admin::generate_keys(std::path::Path::new(dir)),
        ["mint-service-token", name, rest @ ..] => {
            let days: u64 = match rest {
                [] => 365,
                [days] => days.parse().context("DAYS is a whole number")?,
                _ => anyhow::bail!("usage: users mint-service-token NAME [DAYS]"),
            };
            let key = service_kit::config::required_secret("TOKEN_PRIVATE_KEY")?;
            let token = users::admin::mint_service_token(key.expose(), name, Duration::from_secs(days * 86_400))?;
            writeln!(std::io::stdout(), "{token}").context("writing the token")
        }
        ["create-staff", username] => {
            let password = match service_kit::config::secret("STAFF_PASSWORD")? {
                Some(password) => password.expose().to_owned(),
                None => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).context("reading the password from stdin")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let database = service_kit::config::DatabaseSettings::from_env()?;
            let key = service_kit::config::required_secret("TOKEN_PRIVATE_KEY")?;
            users::admin::create_staff(&database, key.expose(), username, &password).await
        }
        _ => anyhow::bail!("unknown command {args:?}; see `users --help` in the source of main.rs"),
    }
}
