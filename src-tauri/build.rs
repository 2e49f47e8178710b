fn main() {
    // The UI is embedded at compile time from ui/dist (ui/build.sh makes it). Say so plainly
    // instead of failing deep inside tauri's macros.
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    // The end-to-end test runs only when asked (it needs a display and the drivers); else it is ignored.
    println!("cargo:rustc-check-cfg=cfg(e2e)");
    println!("cargo:rerun-if-env-changed=DAWARICH_DOCTOR_E2E");
    if std::env::var_os("DAWARICH_DOCTOR_E2E").is_some() {
        println!("cargo:rustc-cfg=e2e");
    }
    if !dist.exists() {
        panic!(
            "ui/dist/index.html is missing: build the UI first with `ui/build.sh` (scripts/run and scripts/test do)"
        );
    }
    // Every command the shell exposes (the model's list); the capability file allows exactly these.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&dawarich_doctor_model::commands::ALL)),
    )
    .expect("tauri build step");
}
