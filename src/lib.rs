//! Dawarich Doctor's core: connect to a Dawarich database, diagnose why its upgrade fails, clear the
//! stale Rails migration lock, repair blocking data, and apply pending migrations with Rails'
//! bookkeeping. No UI and no Tauri here: the CLI and the desktop shell both call this crate.

pub mod connect;
pub mod profile;
pub mod audit;
pub mod batch;
pub mod catalog;
pub mod cluster;
pub mod locks;
pub mod migrate;
pub mod diagnose;
pub mod error;
pub mod fixtures;
pub mod probe;
pub mod problems;
pub mod profiles;
pub mod progress;
pub mod repair;
pub mod sandbox;
pub mod settings;
pub mod secrets;
pub mod schema;
pub mod state;
pub mod tunnel;

pub use error::{Error, Result};
