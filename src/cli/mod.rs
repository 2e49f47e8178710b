//! Command-line parsing and dispatch; printing lives in `render`.

mod render;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::profile;
use dawarich_doctor::settings::Environment;
use dawarich_doctor::{Error, Result};
use dawarich_doctor_model::{CheckId, CheckStatus, HolderVerdict, SettingSource, SslMode, StrategyId};

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
        #[command(flatten)]
        env: EnvArgs,
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
        #[command(flatten)]
        env: EnvArgs,
        /// Database sessions a batched backfill runs on at once (1: only the one holding the lock).
        #[arg(long, default_value_t = dawarich_doctor::migrate::DEFAULT_WORKERS, value_parser = clap::value_parser!(u8).range(1..=16))]
        workers: u8,
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
    /// Show the Rails migration lock's holders; with --release, end a stale holder.
    Locks {
        #[command(flatten)]
        conn: ConnArgs,
        /// The pid to end (see the list).
        #[arg(long, value_name = "PID")]
        release: Option<i32>,
        /// Confirm the release.
        #[arg(long)]
        yes: bool,
        /// Also end a holder that is running a statement right now.
        #[arg(long)]
        force_active: bool,
        #[arg(long, default_value_t = 60.0)]
        stale_after: f64,
        #[arg(long)]
        json: bool,
    },
    /// Repair the rows a check finds (preview without --strategy or with --dry-run).
    Repair {
        #[command(flatten)]
        conn: ConnArgs,
        /// The check id (see `diagnose`).
        #[arg(long, value_parser = parse_check)]
        check: CheckId,
        /// The strategy to run (see the preview).
        #[arg(long, value_parser = parse_strategy)]
        strategy: Option<StrategyId>,
        /// The user that gets the rows, for `--strategy assign`.
        #[arg(long)]
        user: Option<i64>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        yes: bool,
        /// Rows per range (one short transaction each).
        #[arg(long, default_value_t = 5000)]
        batch_size: i64,
        #[arg(long)]
        json: bool,
    },
    /// Put back what a repair (or upgrade) run changed: reverted updates, quarantined rows.
    Undo {
        #[command(flatten)]
        conn: ConnArgs,
        #[arg(long)]
        run: String,
        #[arg(long)]
        yes: bool,
    },
    /// Print the audit log (every change Dawarich Doctor made in this database).
    Audit {
        #[command(flatten)]
        conn: ConnArgs,
        #[arg(long)]
        run: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Start a throwaway local PostgreSQL with a broken Dawarich database to try everything on.
    Sandbox {
        /// Points in the demo database.
        #[arg(long, default_value_t = 5000)]
        points: i64,
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
    /// Dawarich's docker .env: the connection (DATABASE_HOST, DATABASE_PASSWORD, …; --url wins) and
    /// the environment an upgrade follows (TIME_ZONE, RAILS_ENV, SELF_HOSTED).
    #[arg(long, value_name = "PATH")]
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
    /// Reach the database through this SSH server (the Docker host); the URL's host is then resolved
    /// there, e.g. `dawarich_db` (looked up with `docker inspect` if the host cannot resolve it).
    #[arg(long, value_name = "USER@HOST[:PORT]")]
    ssh: Option<String>,
    /// Private key for --ssh. Without it: the SSH agent, else ~/.ssh/id_ed25519, id_ecdsa or id_rsa, else a password.
    #[arg(long, value_name = "PATH", requires = "ssh")]
    ssh_key: Option<String>,
    /// Log in to the SSH server with a password (asked for on the terminal).
    #[arg(long, requires = "ssh", conflicts_with = "ssh_key")]
    ssh_password: bool,
    /// Read the SSH password, or with --ssh-key the key's passphrase, from the first line of standard input.
    #[arg(long, requires = "ssh")]
    ssh_password_stdin: bool,
    /// Trust the SSH server's host key if it is not known yet (its fingerprint is printed); without
    /// this you are asked on a terminal. A changed key is always refused.
    #[arg(long, requires = "ssh")]
    ssh_trust_new_host: bool,
}

/// Dawarich's environment, when it is not (or not rightly) in the .env: each option wins over it.
#[derive(Args, Clone)]
pub struct EnvArgs {
    /// Dawarich's TIME_ZONE, for dates without an offset (default: the .env's, else Europe/London, the stock compose default).
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// Dawarich's RAILS_ENV, written to ar_internal_metadata (default: the .env's, else the stock compose default of the target).
    #[arg(long, value_name = "ENV")]
    rails_env: Option<String>,
    /// Dawarich's SELF_HOSTED (default: the .env's, else true).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    self_hosted: Option<bool>,
}

impl EnvArgs {
    /// The options given, plus the variables of `--env-file`.
    fn environment(&self, conn: &ConnArgs) -> Result<Environment> {
        let given = |v: &Option<String>| v.clone().map(|v| (v, SettingSource::Option));
        Ok(Environment {
            time_zone: given(&self.time_zone),
            rails_env: given(&self.rails_env),
            self_hosted: self.self_hosted.map(|b| (b, SettingSource::Option)),
            env_file: conn.env_file.as_ref().map(std::fs::read_to_string).transpose()?.map(|t| dawarich_doctor::settings::env_vars(&t)),
            container: None,
        })
    }
}

fn parse_check(s: &str) -> std::result::Result<CheckId, String> {
    CheckId::parse(s).ok_or_else(|| format!("unknown check {s:?}; repairable checks: {}", dawarich_doctor::problems::repairable().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")))
}

fn parse_strategy(s: &str) -> std::result::Result<StrategyId, String> {
    StrategyId::parse(s).ok_or_else(|| format!("unknown strategy {s:?} ({})", StrategyId::ALL.map(StrategyId::as_str).join(", ")))
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
        if let Some(dest) = &self.ssh {
            let (ssh, secret_is_passphrase) = self.ssh_profile(dest)?;
            let mut ssh_opts = dawarich_doctor::tunnel::SshOptions::default();
            if self.ssh_password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let secret = Some(line.trim_end_matches(['\r', '\n']).to_string());
                if secret_is_passphrase {
                    ssh_opts.passphrase = secret;
                } else {
                    ssh_opts.password = secret;
                }
            }
            opts.profile.ssh = Some(ssh);
            opts.ssh = Some(ssh_opts);
        }
        Ok(opts)
    }

    /// The SSH hop from `--ssh user@host[:port]` and the auth flags, and whether a secret read from
    /// stdin is a key passphrase (else a password).
    fn ssh_profile(&self, dest: &str) -> Result<(dawarich_doctor_model::SshProfile, bool)> {
        use dawarich_doctor_model::{SshAuth, SshProfile};
        let bad = || Error::Refused(format!("--ssh {dest:?}: expected user@host or user@host:port"));
        let (user, hostport) = match dest.rsplit_once('@') {
            Some((u, h)) if !u.is_empty() => (u.to_string(), h),
            Some(_) => return Err(bad()),
            None => (std::env::var("USER").map_err(|_| bad())?, dest),
        };
        let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(bad)?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h, Some(p)),
                _ => (hostport, None),
            }
        };
        let port = port.map(|p| p.parse::<u16>().map_err(|_| bad())).transpose()?.unwrap_or(22);
        if host.is_empty() {
            return Err(bad());
        }
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let default_key = || {
            let ssh_dir = home.as_ref()?.join(".ssh");
            ["id_ed25519", "id_ecdsa", "id_rsa"].iter().map(|k| ssh_dir.join(k)).find(|p| p.exists())
        };
        let auth = if let Some(k) = &self.ssh_key {
            SshAuth::Key { path: k.clone() }
        } else if self.ssh_password || self.ssh_password_stdin {
            SshAuth::Password
        } else if std::env::var_os("SSH_AUTH_SOCK").is_some() {
            SshAuth::Agent
        } else if let Some(k) = default_key() {
            SshAuth::Key { path: k.display().to_string() }
        } else {
            SshAuth::Password
        };
        let is_key = matches!(auth, SshAuth::Key { .. });
        Ok((SshProfile { host: host.to_string(), port, user, auth }, is_key))
    }

    /// Connects; on a terminal asks for what is missing (database or SSH password, key passphrase)
    /// and whether to trust an unknown SSH host key, then tries again.
    async fn connect(&self) -> Result<Db> {
        use dawarich_doctor::connect::ConnectError as C;
        use dawarich_doctor::tunnel::{SshOptions, TunnelError};
        let mut opts = self.options()?;
        let tty = std::io::stdin().is_terminal();
        loop {
            let err = match connect(&opts).await {
                Ok(db) => return Ok(db),
                Err(e) => e,
            };
            let ssh = opts.ssh.get_or_insert_with(SshOptions::default);
            match &err {
                C::NoPassword { user } if tty && opts.password.is_none() => {
                    opts.password = Some(rpassword::prompt_password(format!("Password for {user}: "))?);
                }
                C::Tunnel(TunnelError::PasswordNeeded { addr }) if tty && ssh.password.is_none() => {
                    ssh.password = Some(rpassword::prompt_password(format!("SSH password for {addr}: "))?);
                }
                C::Tunnel(TunnelError::PassphraseNeeded { path }) if tty && ssh.passphrase.is_none() => {
                    ssh.passphrase = Some(rpassword::prompt_password(format!("Passphrase for {path}: "))?);
                }
                C::Tunnel(TunnelError::HostKeyUnknown { addr, algorithm, fingerprint }) if ssh.accept_host_key.is_none() && (self.ssh_trust_new_host || tty) => {
                    eprintln!("The SSH server {addr} is not known yet. Its {algorithm} host key fingerprint is\n  {fingerprint}");
                    if self.ssh_trust_new_host {
                        eprintln!("Trusting it (--ssh-trust-new-host); remembered in {}.", ssh.trusted_hosts.display());
                    } else {
                        eprint!("Trust it and remember it in {}? [y/N] ", ssh.trusted_hosts.display());
                        let mut answer = String::new();
                        std::io::stdin().read_line(&mut answer)?;
                        if !matches!(answer.trim(), "y" | "Y" | "yes") {
                            return Err(err.into());
                        }
                    }
                    ssh.accept_host_key = Some(fingerprint.clone());
                }
                _ => return Err(err.into()),
            }
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
        Command::Plan { conn, env, to, json, sql } => {
            let db = conn.connect().await?;
            let plan = dawarich_doctor::migrate::plan(&db, to.as_deref(), &env.environment(&conn)?).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&plan).expect("serialisable"));
            } else {
                print!("{}", render::plan(&plan, sql, &p));
            }
            Ok(if plan.blockers.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Upgrade { conn, env, to, yes, dry_run, workers } => {
            let db = conn.connect().await?;
            let env = env.environment(&conn)?;
            let plan = dawarich_doctor::migrate::plan(&db, to.as_deref(), &env).await?;
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
            let opts = dawarich_doctor::migrate::UpgradeOptions { target: to, env, workers: workers.into(), ..Default::default() };
            let cancel = cancel_on_ctrl_c();
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
            let (extras, diffs): (Vec<_>, Vec<_>) = dawarich_doctor::schema::verify(&db, &release).await?.into_iter().partition(|d| d.is_kept());
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "release": release, "differences": diffs, "extras": extras })).expect("serialisable"));
            } else {
                print!("{}", render::differences(&release, &diffs, &extras, &p));
            }
            Ok(if diffs.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Locks { conn, release, yes, force_active, stale_after, json } => {
            let db = conn.connect().await?;
            let report = dawarich_doctor::locks::lock_report(&db, &db.database, stale_after).await?;
            match release {
                None => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&report).expect("serialisable"));
                    } else {
                        print!("{}", render::locks(&report, &p));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some(pid) => {
                    print!("{}", render::locks(&report, &p));
                    if !yes && !render::confirm(&format!("End session {pid}? Its open transaction is rolled back."))? {
                        eprintln!("Nothing was changed.");
                        return Ok(ExitCode::from(1));
                    }
                    let opts = dawarich_doctor::locks::ReleaseOptions { pid, force_active, stale_after_secs: stale_after, cancel_grace: std::time::Duration::from_secs(5) };
                    let out = dawarich_doctor::locks::release(&db, &opts, dawarich_doctor::audit::default_file()).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&out).expect("serialisable"));
                    } else if out.lock_free {
                        println!("{} ({}): the Rails migration lock is free.", p.green("released"), out.actions.join(" → "));
                    } else {
                        println!("{} the lock is still held; run `dawarich-doctor locks` to see by whom.", p.red("not released:"));
                    }
                    Ok(if out.lock_free { ExitCode::SUCCESS } else { ExitCode::from(1) })
                }
            }
        }
        Command::Repair { conn, check, strategy, user, dry_run, yes, batch_size, json } => {
            let db = conn.connect().await?;
            let preview = dawarich_doctor::repair::preview(&db, check).await?;
            let Some(strategy) = strategy.filter(|_| !dry_run) else {
                if json {
                    println!("{}", serde_json::to_string_pretty(&preview).expect("serialisable"));
                } else {
                    print!("{}", render::repair_preview(&preview, &p));
                }
                return Ok(ExitCode::SUCCESS);
            };
            if !json {
                print!("{}", render::repair_preview(&preview, &p));
            }
            if !yes && !render::confirm(&format!("Run strategy {strategy} on {check}?"))? {
                eprintln!("Nothing was changed.");
                return Ok(ExitCode::from(1));
            }
            drop(db);
            let opts = dawarich_doctor::repair::RepairOptions { check, strategy, user, batch_size, audit_file: dawarich_doctor::audit::default_file() };
            let cancel = cancel_on_ctrl_c();
            let out = dawarich_doctor::repair::repair(&conn.options()?, &opts, &render::step_printer(&p), &cancel).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&out).expect("serialisable"));
            } else {
                print!("{}", render::repair_outcome(&out, &p));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Undo { conn, run, yes } => {
            if !yes && !render::confirm(&format!("Undo run {run}?"))? {
                eprintln!("Nothing was changed.");
                return Ok(ExitCode::from(1));
            }
            let rows = dawarich_doctor::repair::undo(&conn.options()?, &run, dawarich_doctor::audit::default_file()).await?;
            for r in &rows {
                println!("{:<28} reverted {:>8}  restored {:>8}  left in quarantine {:>6}", r.table, r.reverted, r.restored, r.skipped);
            }
            if rows.is_empty() {
                println!("run {run} changed nothing that can be undone");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { conn, run, json } => {
            let db = conn.connect().await?;
            let rows = dawarich_doctor::audit::read(&db, run.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows).expect("serialisable"));
            } else {
                for r in &rows {
                    println!("{} {} {:<12} {:<8} rows {:>8} {:>8.1} ms  {}", r.at, r.run_id, r.action, r.outcome, r.rows_affected.map(|n| n.to_string()).unwrap_or_else(|| "-".into()), r.duration_ms.unwrap_or(0.0), r.statement.lines().next().unwrap_or(""));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sandbox { points } => {
            let sandbox = dawarich_doctor::sandbox::start(points).await?;
            println!("Demo database (Dawarich {}, stale migration lock, ownerless points):", dawarich_doctor::sandbox::DEMO_RELEASE);
            println!("  {}", sandbox.url);
            println!("Try: dawarich-doctor diagnose --url {}", sandbox.url);
            println!("Press Ctrl-C to stop it; everything is removed.");
            tokio::signal::ctrl_c().await?;
            tokio::task::spawn_blocking(move || sandbox.stop()).await.map_err(|e| Error::Refused(e.to_string()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Releases => {
            print!("{}", render::releases());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A cancel flag that Ctrl-C sets: long operations stop at their next safe point.
fn cancel_on_ctrl_c() -> dawarich_doctor::progress::Cancel {
    let cancel = dawarich_doctor::progress::Cancel::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nCancelling at the next safe point…");
            on_ctrl_c.cancel();
        }
    });
    cancel
}
