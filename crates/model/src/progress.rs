use serde::{Deserialize, Serialize};

/// A step of a long operation as reported live (the CLI prints these, the app forwards them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
pub enum ProgressEvent {
    /// The steps about to run, in order.
    Plan {
        steps: Vec<StepInfo>,
    },
    StepStarted {
        step: usize,
        title: String,
    },
    /// Rows done out of total (when known), and the current rate.
    StepProgress {
        step: usize,
        done: u64,
        total: Option<u64>,
        rows_per_sec: f64,
        eta_secs: Option<f64>,
        statement: Option<String>,
    },
    /// We are waiting for a lock held by another session.
    Waiting {
        step: usize,
        blocker_pid: i32,
        blocker_query: Option<String>,
        attempt: u32,
    },
    StepFinished {
        step: usize,
        elapsed_ms: u64,
        rows: Option<u64>,
    },
    Warning {
        step: Option<usize>,
        message: String,
    },
    /// A command on the Docker host about to run (`$ docker stop dawarich_app`), or a line of what one
    /// printed (a follow-up's output, the log lines that show Dawarich up).
    Output {
        step: Option<usize>,
        line: String,
    },
    /// Bytes written so far (a backup), of an estimated total.
    Transfer {
        step: usize,
        bytes: u64,
        total: Option<u64>,
        bytes_per_sec: f64,
    },
    /// Everything finished (or stopped: `ok` false).
    Done {
        ok: bool,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepInfo {
    pub step: usize,
    pub title: String,
}
