//! Embeds the migration catalog (`migrations/*.sql`, `migrations/releases.tsv`) and the per-release
//! schemas (`schemas/`) into the binary, so
//! the product never reads files at run time.
use std::{env, fs, path::Path};

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap();
    let dir = Path::new(&root).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from(
        "/// (file name, contents) of every catalog file, in name order.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        out += &format!("    ({n:?}, include_str!({:?})),\n", dir.join(n).display().to_string());
    }
    out += "];\n";
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("catalog_files.rs"), out).unwrap();

    // schemas/*.sql: each release's schema.rb as SQL (catalog::schema_sql).
    let sdir = Path::new(&root).join("schemas");
    println!("cargo:rerun-if-changed={}", sdir.display());
    let mut names: Vec<String> = fs::read_dir(&sdir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql") || n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from(
        "/// (file name, contents) of every schemas/ file.\npub static SCHEMA_FILES: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        out += &format!("    ({n:?}, include_str!({:?})),\n", sdir.join(n).display().to_string());
    }
    out += "];\n";
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("schema_files.rs"), out).unwrap();
}
