//! Dawarich migrating itself, watched: its log read (`log`), the database and the container
//! observed until it is up or fails (`observe`), and a failure matched with its fix (`advice`).

pub mod advice;
pub mod log;
mod observe;

pub use observe::{hand_over, watch, Watched};
