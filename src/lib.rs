//! Dawarich Doctor's core: connect to a Dawarich database, diagnose why its upgrade fails, clear the
//! stale Rails migration lock, repair blocking data, and apply pending migrations with Rails'
//! bookkeeping. No UI, no Tauri and no command line here: the CLI (`crates/cli`) and the desktop
//! shell both call this crate.

pub mod applied;
pub mod archive;
pub mod audit;
pub mod backup;
pub mod batch;
pub mod catalog;
pub mod connect;
pub mod containers;
pub mod diagnose;
pub mod docker;
pub mod error;
pub mod locks;
pub mod migrate;
pub mod probe;
pub mod problems;
pub mod profile;
pub mod profile_list;
pub mod progress;
pub mod repair;
pub mod schema;
pub mod secrets;
pub mod settings;
pub mod tunnel;
pub mod unique;
pub mod watch;

pub use error::{Error, Result};
