use std::process::ExitCode;

use dawarich_doctor::{applied, Error, Result};

use crate::args::{parse_release, ConnArgs};
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// Release to compare with (default: the release detected in the database).
    #[arg(long, value_parser = parse_release)]
    release: Option<String>,
    #[arg(long)]
    json: bool,
}

/// Exit 1 when the schema differs (what Dawarich itself keeps is only reported).
pub async fn exec(Args { conn, release, json }: Args, p: &Painter) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let release = match release {
        Some(r) => r,
        None => {
            let applied = applied::read_applied(&db, &db.database).await?;
            let unknown = || Error::InvalidInput {
                message: "no known release matches the applied migrations".into(),
                fix: "Pass --release TAG (see `dawarich-doctor releases`).".into(),
            };
            applied::describe(&applied, None)?.release.ok_or_else(unknown)?
        }
    };
    let (extras, diffs): (Vec<_>, Vec<_>) = dawarich_doctor::schema::verify(&db, &release)
        .await?
        .into_iter()
        .partition(|d| d.is_kept());
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "release": release, "differences": diffs, "extras": extras })
            )
            .expect("serialisable")
        )?;
    } else {
        out!("{}", render::differences(&release, &diffs, &extras, p))?;
    }
    Ok(if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
