use std::process::ExitCode;

use dawarich_doctor::Result;

use crate::render;

pub fn exec() -> Result<ExitCode> {
    out!("{}", render::releases())?;
    Ok(ExitCode::SUCCESS)
}
