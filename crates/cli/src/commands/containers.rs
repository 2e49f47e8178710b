use std::process::ExitCode;

use dawarich_doctor::containers::find;
use dawarich_doctor::Result;

use crate::args::ConnArgs;
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    #[arg(value_enum, default_value_t = Action::Status)]
    action: Action,
    /// Print JSON (`status` only).
    #[arg(long)]
    json: bool,
    /// Do not ask before stopping.
    #[arg(long)]
    yes: bool,
    /// Seconds `start` waits for the app to become healthy.
    #[arg(long, default_value_t = 360)]
    timeout: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Action {
    /// State, health, restarts, image and release of app, sidekiq and database.
    Status,
    /// Stop sidekiq and app (the database keeps running).
    Stop,
    /// Start the app, wait until it is healthy, then sidekiq.
    Start,
}

/// Exit 1 when declined.
pub async fn exec(
    Args {
        conn,
        action,
        json,
        yes,
        timeout,
    }: Args,
    p: &Painter,
) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let install = find(&db).await?;
    let result = run(&install, action, json, yes, timeout, p).await;
    install
        .host
        .write_journal(&conn.options()?, dawarich_doctor::audit::default_file())
        .await;
    result
}

async fn run(
    install: &dawarich_doctor::containers::Install,
    action: Action,
    json: bool,
    yes: bool,
    timeout: u64,
    p: &Painter,
) -> Result<ExitCode> {
    match action {
        Action::Status => {
            let s = install.status().await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&s).expect("serialisable"))?;
            } else {
                out!("{}", render::containers(&s, p))?;
            }
        }
        Action::Stop => {
            let names = install.dawarich().join(", ");
            if !yes && !render::confirm(&format!("Stop {names} on {}?", install.host.describe()))? {
                eprintln!("Nothing was changed.");
                return Ok(ExitCode::from(1));
            }
            install.stop().await?;
            outln!("Stopped {names}.")?;
        }
        Action::Start => {
            let mut show = |l: &str| eprintln!("  {l}");
            let proof = install
                .start(std::time::Duration::from_secs(timeout), &mut show)
                .await?;
            let release = install.release_of(&install.app).await.ok();
            outln!(
                "{} Dawarich {} is up ({}).",
                p.green("✓"),
                release.unwrap_or_default(),
                proof.last().cloned().unwrap_or_default()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
