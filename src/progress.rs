//! Progress as plain Rust events: the core emits `ProgressEvent`s into a sink; the CLI prints them,
//! the desktop shell forwards them through its IPC channel.

pub use dawarich_doctor_model::ProgressEvent;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Receives progress events.
pub trait Progress: Send + Sync {
    fn emit(&self, event: ProgressEvent);
}

impl<F: Fn(ProgressEvent) + Send + Sync> Progress for F {
    fn emit(&self, event: ProgressEvent) {
        self(event)
    }
}

/// A sink that drops everything.
pub struct Silent;

impl Progress for Silent {
    fn emit(&self, _: ProgressEvent) {}
}

/// A cancellation flag, checked between batches and steps (the next safe point).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst)
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
