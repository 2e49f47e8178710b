//! Dawarich Doctor's desktop UI: Leptos in client-side-rendered mode, compiled to WebAssembly and
//! embedded in the Tauri shell. It talks to the shell only through `window.__TAURI__.core.invoke`
//! and `Channel` (see `tauri`), with the model crate's types on both sides.

pub mod api;
pub mod app;
pub mod format;
pub mod screens;
pub mod tauri;

#[cfg(all(target_arch = "wasm32", not(test)))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}

#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_tests;
