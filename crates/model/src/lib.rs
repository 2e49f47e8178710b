//! Types that cross every boundary of Dawarich Doctor: the core library produces them, the CLI prints
//! them, the desktop shell sends them over IPC and the WebAssembly UI renders them.
//! No IO, no async runtime: this crate must build for `wasm32-unknown-unknown`.

mod app;
mod diagnosis;
mod error;
mod host;
mod plan;
mod problem;
mod profile;
mod progress;
mod repair;
mod watch;

pub use app::*;
pub use diagnosis::*;
pub use error::*;
pub use host::*;
pub use plan::*;
pub use problem::*;
pub use profile::*;
pub use progress::*;
pub use repair::*;
pub use watch::*;
