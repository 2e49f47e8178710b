use std::process::ExitCode;

use dawarich_doctor::Result;
use dawarich_doctor_sandbox::DEMO_RELEASE;

#[derive(clap::Args)]
pub struct Args {
    /// Points in the demo database.
    #[arg(long, default_value_t = 5000)]
    points: i64,
}

/// Starts the demo and keeps it until Ctrl-C.
pub async fn exec(Args { points }: Args) -> Result<ExitCode> {
    let sandbox = dawarich_doctor_sandbox::start(points).await?;
    outln!("Demo database (Dawarich {DEMO_RELEASE}, stale migration lock, ownerless points):")?;
    outln!("  {}", sandbox.url)?;
    outln!("Try: dawarich-doctor diagnose --url {}", sandbox.url)?;
    outln!("Press Ctrl-C to stop it; everything is removed.")?;
    tokio::signal::ctrl_c().await?;
    tokio::task::spawn_blocking(move || sandbox.stop()).await?;
    Ok(ExitCode::SUCCESS)
}
