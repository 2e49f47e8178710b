//! `archive::read_toc` on real `pg_dump -Fc` archives: streamed to a pipe (data offsets not set) and
//! written with `-f` (offsets set), compressed or not.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use common::*;
use dawarich_doctor::archive::{read_toc, ArchiveError, Toc};

/// A database with an empty table, a table with rows, a table in another schema and a table whose
/// name has a space and quotes; returns its name and its tables as "schema.table".
async fn database() -> (String, BTreeSet<String>) {
    let name = new_db("archive", false).await;
    let db = connect_url(&cluster().url(&name)).await;
    db.batch_execute(
        r#"CREATE TABLE empty_one (id int);
           CREATE TABLE with_rows (id int PRIMARY KEY, note text);
           INSERT INTO with_rows SELECT g, 'row ' || g FROM generate_series(1, 20) g;
           CREATE SCHEMA other;
           CREATE TABLE other.elsewhere (id int);
           INSERT INTO other.elsewhere VALUES (1);
           CREATE TABLE "odd name's ""quoted""" (id int);
           INSERT INTO "odd name's ""quoted""" VALUES (1);"#,
    )
    .await
    .unwrap();
    let tables: BTreeSet<String> = db
        .query(
            "SELECT schemaname || '.' || tablename FROM pg_tables \
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables.len(), 4, "{tables:?}");
    assert!(tables.contains("public.odd name's \"quoted\""), "{tables:?}");
    (name, tables)
}

/// `pg_dump -Fc ARGS` of `db`; its standard output (a pipe, so the archive is streamed).
fn pg_dump(db: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(cluster().bin().join("pg_dump"))
        .arg("-Fc")
        .args(args)
        .arg("-d")
        .arg(cluster().url(db))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `pg_dump -Fc -f FILE ARGS` of `db`; the file's bytes.
fn pg_dump_file(db: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.dump");
    let streamed = pg_dump(db, &[&["-f", file.to_str().unwrap()][..], args].concat());
    assert!(streamed.is_empty());
    std::fs::read(&file).unwrap()
}

fn check_header(toc: &Toc, db: &str) {
    assert_eq!(toc.database, db);
    assert_eq!(toc.version.0, 1);
    assert!((12..=16).contains(&toc.version.1), "{:?}", toc.version);
    let major = |v: &str| v.split('.').next().unwrap().to_string();
    assert_eq!(major(&toc.dump_version), major(&toc.server_version));
}

#[tokio::test]
async fn streamed_and_file_archives_list_data_of_every_table() {
    let (db, tables) = database().await;
    for (how, bytes) in [
        ("streamed", pg_dump(&db, &[])),
        ("streamed, uncompressed", pg_dump(&db, &["-Z", "0"])),
        ("file", pg_dump_file(&db, &[])),
        ("file, uncompressed", pg_dump_file(&db, &["-Z", "0"])),
    ] {
        let toc = read_toc(&bytes[..]).unwrap_or_else(|e| panic!("{how}: {e}"));
        check_header(&toc, &db);
        assert_eq!(toc.tables_with_data(), tables, "{how}");
        // each table also has its TABLE entry, in its schema
        let defined: BTreeSet<String> = toc
            .entries
            .iter()
            .filter(|e| e.desc == "TABLE")
            .map(|e| format!("{}.{}", e.namespace.as_deref().unwrap_or(""), e.tag))
            .collect();
        assert_eq!(defined, tables, "{how}");
    }
}

#[tokio::test]
async fn excluded_table_data_is_missing() {
    let (db, tables) = database().await;
    let toc = read_toc(&pg_dump(&db, &["--exclude-table-data=with_rows"])[..]).unwrap();
    let mut expected = tables.clone();
    assert!(expected.remove("public.with_rows"));
    assert_eq!(toc.tables_with_data(), expected);
    // the table itself is still defined
    assert!(toc.entries.iter().any(|e| e.desc == "TABLE" && e.tag == "with_rows"));
}

#[tokio::test]
async fn an_archive_cut_in_half_is_truncated() {
    let (db, _) = database().await;
    let bytes = pg_dump_file(&db, &[]);
    let e = read_toc(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(
        matches!(
            e,
            ArchiveError::Truncated {
                part: "table of contents",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().ends_with("the backup is incomplete"), "{e}");
}

#[tokio::test]
async fn a_plain_sql_dump_is_not_custom_format() {
    let (db, _) = database().await;
    let out = Command::new(cluster().bin().join("pg_dump"))
        .arg("-d")
        .arg(cluster().url(&db))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(matches!(read_toc(&out.stdout[..]), Err(ArchiveError::NotCustomFormat)));
}
