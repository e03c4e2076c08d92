//! Command line: `serve`, `migrate`, `api-key create`, `demo`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::context::AppContext;
use crate::startup::{Application, connect_database};
use crate::{demo, services, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "storehub",
    version,
    about = "Reserve online, pick up in store: the notification hub"
)]
pub struct Cli {
    /// TOML settings file; STOREHUB_* environment variables override it.
    #[arg(long, global = true, env = "STOREHUB_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the hub.
    Serve {
        /// Listen address (default 127.0.0.1:8080, or `bind` from the settings).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage integration API keys.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
    /// Print a new VAPID key pair for Web Push (set the private one as
    /// STOREHUB_PUSH__VAPID_PRIVATE_KEY).
    VapidKeys,
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Run the hub with demo stores, articles and stock on a local SQLite file.
    Demo {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// Make a key; it is printed once, alone on the last line.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffAction {
    /// Create an account; the password is read from standard input (first line).
    Create {
        #[arg(long)]
        email: String,
        /// staff, manager or admin.
        #[arg(long)]
        role: String,
        /// Store codes, comma separated.
        #[arg(long, value_delimiter = ',')]
        stores: Vec<String>,
        /// Display name (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
    },
}

/// The demo's database unless STOREHUB_DATABASE__URL says otherwise.
const DEMO_DATABASE: &str = "sqlite://storehub-demo.db?mode=rwc";

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("storehub: the settings could not be read: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_tracing(&settings.log);
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Serve { bind } => {
                if let Some(bind) = bind {
                    settings.bind = bind;
                }
                serve(settings).await
            }
            Command::VapidKeys => {
                let keys =
                    mobile_bridge::webpush::generate_vapid_keys().map_err(anyhow::Error::msg)?;
                println!("STOREHUB_PUSH__VAPID_PRIVATE_KEY={}", keys.private_key);
                println!(
                    "public key (served at /api/v1/push/public-key): {}",
                    keys.public_key
                );
                Ok(())
            }
            Command::Migrate => {
                settings.database.migrate_on_start = true;
                connect_database(&settings).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::ApiKey {
                action: ApiKeyAction::Create { name },
            } => {
                let ctx = offline_context(&settings).await?;
                let created = services::api_keys::create(&ctx, &name)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "API key `{}` (id {}) created. Keep it: it is shown only now.",
                    created.info.name, created.info.id
                );
                println!("{}", created.key);
                Ok(())
            }
            Command::Staff {
                action:
                    StaffAction::Create {
                        email,
                        role,
                        stores,
                        name,
                    },
            } => {
                let role = services::staff::Role::parse(&role).ok_or_else(|| {
                    anyhow::anyhow!("--role is staff, manager or admin, not `{role}`")
                })?;
                let mut password = String::new();
                std::io::stdin().read_line(&mut password)?;
                let password = password.trim_end_matches(['\r', '\n']).to_string();
                let ctx = offline_context(&settings).await?;
                let name =
                    name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
                let created = services::staff::create(
                    &ctx,
                    services::staff::NewStaff {
                        email,
                        name,
                        password,
                        role,
                        stores,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!(
                    "{} account {} (id {}) created for stores [{}].",
                    created.role.as_str(),
                    created.email,
                    created.id,
                    created.stores.join(", ")
                );
                Ok(())
            }
            Command::Demo { bind } => {
                settings.bind = bind;
                if std::env::var_os("STOREHUB_DATABASE__URL").is_none() {
                    settings.database.url = DEMO_DATABASE.into();
                }
                settings.database.migrate_on_start = true;
                if settings.push.vapid_private_key.is_none() {
                    settings.push.vapid_private_key = Some(demo::vapid_key()?);
                }
                if std::env::var_os("STOREHUB_PUBLIC_URL").is_none() {
                    // Links point at the address actually bound (port 0 included).
                    settings.public_url = String::new();
                }
                let app = Application::build(settings, Arc::new(SystemClock)).await?;
                demo::seed_and_print(app.context(), app.port()).await?;
                app.run_until_stopped().await?;
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "storehub stopped");
            eprintln!("storehub: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(settings = ?settings, "starting");
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    app.run_until_stopped().await?;
    Ok(())
}

/// A context for one-shot commands that do not serve.
async fn offline_context(settings: &Settings) -> anyhow::Result<AppContext> {
    let db = connect_database(settings).await?;
    Ok(AppContext {
        db: db.clone(),
        clock: Arc::new(SystemClock),
        public_url: Arc::from(settings.public_url.as_str()),
        metrics: telemetry::metrics_handle(),
        directory: Default::default(),
        realtime: settings.realtime.clone(),
        catch_up_gate: AppContext::catch_up_gate(settings.database.max_connections),
        catalogue: AppContext::catalogue_cache(&settings.database),
        delivery_wake: Default::default(),
        vapid_public_key: None,
        links: crate::notify::links::LinkSigner::new(&crate::startup::link_secret(&db).await?),
    })
}
