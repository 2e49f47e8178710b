//! Dawarich migrating itself, watched: its log read (`log`), the database and the container
//! observed until it is up or fails (`observe`), a failure matched with its fix (`advice`), and the
//! fixes no catalog check knows (`fix`).

pub mod advice;
pub mod fix;
pub mod log;
mod observe;

pub use observe::{follow, hand_over, watch, Watched};
