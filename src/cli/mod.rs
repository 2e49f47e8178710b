//! Command-line parsing and dispatch; printing lives in `render`.

mod render;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::profile;
use dawarich_doctor::{Error, Result};
use dawarich_doctor_model::{CheckStatus, HolderVerdict, SslMode};

#[derive(Parser)]
#[command(name = "dawarich-doctor", version, about = "Diagnose, repair and upgrade a Dawarich database")]
struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Colour in human output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Read-only report: server, applied migrations, the Rails migration lock, blockers.
    Diagnose {
        #[command(flatten)]
        conn: ConnArgs,
        /// Print JSON (stable; see the README) instead of the summary.
        #[arg(long)]
        json: bool,
        /// Skip checks that must scan a whole table.
        #[arg(long)]
        quick: bool,
        /// Seconds of idleness after which a lock holder counts as stale.
        #[arg(long, default_value_t = 60.0)]
        stale_after: f64,
    },
    /// What an upgrade would run, in order, with SQL and row estimates (changes nothing).
    Plan {
        #[command(flatten)]
        conn: ConnArgs,
        /// Target release (default: the newest known).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        json: bool,
        /// Print every statement.
        #[arg(long)]
        sql: bool,
    },
    /// Apply the pending schema and data migrations with Rails' bookkeeping.
    Upgrade {
        #[command(flatten)]
        conn: ConnArgs,
        #[arg(long)]
        to: Option<String>,
        /// Do not ask: the plan is run as shown.
        #[arg(long)]
        yes: bool,
        /// Show the plan and stop (same as `plan`).
        #[arg(long)]
        dry_run: bool,
        /// Dawarich's SELF_HOSTED setting.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        self_hosted: bool,
        /// Dawarich's TIME_ZONE, for dates without an offset.
        #[arg(long, default_value = "Europe/Berlin")]
        time_zone: String,
    },
    /// Compare the live schema with a release's expected schema; exit 1 when they differ.
    Verify {
        #[command(flatten)]
        conn: ConnArgs,
        /// Release to compare with (default: the release detected in the database).
        #[arg(long)]
        release: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the Dawarich releases the catalog knows.
    Releases,
}

/// How to reach the database.
#[derive(Args, Clone)]
pub struct ConnArgs {
    /// postgres://user:password@host:port/database[?sslmode=…]
    #[arg(long, env = "DAWARICH_DOCTOR_URL", hide_env_values = true)]
    url: Option<String>,
    /// Read the connection from Dawarich's docker .env (DATABASE_HOST, DATABASE_PASSWORD, …).
    #[arg(long, value_name = "PATH", conflicts_with = "url")]
    env_file: Option<std::path::PathBuf>,
    /// libpq sslmode (overrides the URL's).
    #[arg(long, value_parser = parse_sslmode)]
    sslmode: Option<SslMode>,
    /// PEM file with the CA certificate(s) to trust (sslrootcert).
    #[arg(long, value_name = "PATH")]
    ca_file: Option<String>,
    /// Seconds to wait for the server.
    #[arg(long, default_value_t = 10)]
    connect_timeout: u64,
}

fn parse_sslmode(s: &str) -> std::result::Result<SslMode, String> {
    SslMode::parse(s).ok_or_else(|| format!("unknown sslmode {s:?} (disable, prefer, require, verify-ca, verify-full)"))
}

impl ConnArgs {
    fn options(&self) -> Result<ConnectOptions> {
        let parsed = match (&self.url, &self.env_file) {
            (Some(u), _) => profile::parse_url(u).map_err(|e| Error::Refused(e.to_string()))?,
            (None, Some(p)) => profile::parse_env(&std::fs::read_to_string(p)?).map_err(|e| Error::Refused(e.to_string()))?,
            (None, None) => return Err(Error::Refused("give --url postgres://… or --env-file PATH (or set DAWARICH_DOCTOR_URL)".into())),
        };
        let mut opts = ConnectOptions::new(parsed.profile, parsed.password);
        if let Some(m) = self.sslmode {
            opts.profile.sslmode = m;
        }
        if let Some(ca) = &self.ca_file {
            opts.profile.ca_file = Some(ca.clone());
        }
        opts.connect_timeout = std::time::Duration::from_secs(self.connect_timeout.max(1));
        if opts.password.is_none() {
            opts.password = std::env::var("PGPASSWORD").ok();
        }
        Ok(opts)
    }

    /// Connects; asks for the password on the terminal when the server wants one we do not have.
    async fn connect(&self) -> Result<Db> {
        let mut opts = self.options()?;
        match connect(&opts).await {
            Err(dawarich_doctor::connect::ConnectError::NoPassword { user }) if std::io::stdin().is_terminal() => {
                let pw = rpassword::prompt_password(format!("Password for {user}: "))?;
                opts.password = Some(pw);
                Ok(connect(&opts).await?)
            }
            other => Ok(other?),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        _ => log::LevelFilter::Debug,
    };
    env_logger::Builder::new().filter_level(level).parse_env("DAWARICH_DOCTOR_LOG").format_timestamp_secs().init();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    match rt.block_on(run(cli.command, color)) {
        Ok(code) => code,
        Err(e) => {
            let r = e.report();
            eprintln!("error: {}\nfix: {}", r.message, r.fix);
            ExitCode::from(2)
        }
    }
}

async fn run(command: Command, color: bool) -> Result<ExitCode> {
    let p = render::Painter { color };
    match command {
        Command::Diagnose { conn, json, quick, stale_after } => {
            let db = conn.connect().await?;
            let opts = DiagnoseOptions { quick, stale_after_secs: stale_after, ..Default::default() };
            let progress = render::stderr_progress(!json);
            let d = diagnose(&db, &opts, &progress).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d).expect("serialisable"));
            } else {
                print!("{}", render::diagnosis(&d, &p));
            }
            let problems = d.checks.iter().any(|c| c.status == CheckStatus::Problem)
                || d.lock.holders.iter().any(|h| h.verdict != HolderVerdict::Unknown && !h.is_self);
            Ok(if problems { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Plan { conn, to, json, sql } => {
            let db = conn.connect().await?;
            let plan = dawarich_doctor::migrate::plan(&db, to.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&plan).expect("serialisable"));
            } else {
                print!("{}", render::plan(&plan, sql, &p));
            }
            Ok(if plan.blockers.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Upgrade { conn, to, yes, dry_run, self_hosted, time_zone } => {
            let db = conn.connect().await?;
            let plan = dawarich_doctor::migrate::plan(&db, to.as_deref()).await?;
            print!("{}", render::plan(&plan, dry_run, &p));
            if dry_run {
                return Ok(ExitCode::SUCCESS);
            }
            if !plan.blockers.is_empty() {
                return Err(Error::Precondition { message: "the plan has blockers (above); nothing was changed".into(), fix: plan.blockers[0].fix.clone() });
            }
            if !yes && !render::confirm("Run this upgrade now? Make sure you have a backup (pg_dump).")? {
                eprintln!("Nothing was changed.");
                return Ok(ExitCode::from(1));
            }
            drop(db);
            let opts = dawarich_doctor::migrate::UpgradeOptions { target: to, self_hosted, time_zone, ..Default::default() };
            let cancel = dawarich_doctor::progress::Cancel::new();
            let on_ctrl_c = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\nCancelling at the next safe point…");
                    on_ctrl_c.cancel();
                }
            });
            let outcome = dawarich_doctor::migrate::upgrade(&conn.options()?, &opts, &render::step_printer(&p), &cancel).await?;
            print!("{}", render::outcome(&outcome, &p));
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { conn, release, json } => {
            let db = conn.connect().await?;
            let release = match release {
                Some(r) => r,
                None => {
                    let applied = dawarich_doctor::state::read_applied(&db, &db.database).await?;
                    dawarich_doctor::state::describe(&applied, None)?.release.ok_or_else(|| Error::Refused("no known release matches the applied migrations; pass --release".into()))?
                }
            };
            let diffs = dawarich_doctor::schema::verify(&db, &release).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "release": release, "differences": diffs })).expect("serialisable"));
            } else {
                print!("{}", render::differences(&release, &diffs, &p));
            }
            Ok(if diffs.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Releases => {
            print!("{}", render::releases());
            Ok(ExitCode::SUCCESS)
        }
    }
}
