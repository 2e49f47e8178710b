//! Embeds the migration catalog (`migrations/*.sql`, `migrations/fused/*.sql`,
//! `migrations/releases.tsv`) and the per-release schemas (`schemas/`) into the binary, so
//! the product never reads files at run time.
use std::{env, fs, path::Path};

/// `pub static NAME: &[(&str, &str)]`: (file name, contents) of every file in `dir` whose name ends
/// with one of `endings`, in name order.
fn embed(dir: &Path, name: &str, doc: &str, endings: &[&str]) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| endings.iter().any(|e| n.ends_with(e)))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = format!("/// {doc}\npub static {name}: &[(&str, &str)] = &[\n");
    for n in &names {
        out += &format!("    ({n:?}, include_str!({:?})),\n", dir.join(n).display().to_string());
    }
    out + "];\n"
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap();
    let out_dir = env::var("OUT_DIR").unwrap();
    let dir = Path::new(&root).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let catalog = embed(
        &dir,
        "FILES",
        "(file name, contents) of every catalog file, in name order.",
        &[".sql"],
    ) + &embed(
        &dir.join("fused"),
        "FUSED_FILES",
        "(file name, contents) of the combined statement of each `-- fuse:` group.",
        &[".sql"],
    );
    fs::write(Path::new(&out_dir).join("catalog_files.rs"), catalog).unwrap();

    // schemas/*.sql: each release's schema.rb as SQL (catalog::schema_sql).
    let sdir = Path::new(&root).join("schemas");
    println!("cargo:rerun-if-changed={}", sdir.display());
    let schemas = embed(
        &sdir,
        "SCHEMA_FILES",
        "(file name, contents) of every schemas/ file.",
        &[".sql", ".json"],
    );
    fs::write(Path::new(&out_dir).join("schema_files.rs"), schemas).unwrap();
}
