use std::process::ExitCode;

use dawarich_doctor::Result;

use crate::args::{parse_release, ConnArgs, EnvArgs};
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    #[command(flatten)]
    env: EnvArgs,
    /// Target release (default: the newest known).
    #[arg(long, value_parser = parse_release)]
    to: Option<String>,
    #[arg(long)]
    json: bool,
    /// Print every statement.
    #[arg(long)]
    sql: bool,
}

/// Exit 1 when the plan has blockers.
pub async fn exec(
    Args {
        conn,
        env,
        to,
        json,
        sql,
    }: Args,
    p: &Painter,
) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let plan = dawarich_doctor::migrate::plan(&db, to.as_deref(), &env.environment(&conn)?).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&plan).expect("serialisable"))?;
    } else {
        out!("{}", render::plan(&plan, sql, p))?;
    }
    Ok(if plan.blockers.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
