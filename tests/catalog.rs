//! The embedded catalog against the ground truth read from every Dawarich release tag
//! (schemas/tag-versions.txt, produced by tools/check_releases.py from Dawarich's repository).

use std::collections::BTreeSet;

use dawarich_doctor::catalog::catalog;
use dawarich_doctor_model::MigrationKind;

#[test]
fn every_release_ships_exactly_the_versions_its_tag_had() {
    let truth = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/tag-versions.txt")).unwrap();
    let c = catalog();
    let mut compared = 0;
    for line in truth.lines() {
        let mut f = line.splitn(3, ' ');
        let (tag, kind, list) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap_or("").trim());
        let kind = if kind == "schema" {
            MigrationKind::Schema
        } else {
            MigrationKind::Data
        };
        let want: BTreeSet<String> = list.split(',').filter(|v| !v.is_empty()).map(String::from).collect();
        assert!(c.release(tag).is_some(), "release {tag} missing from releases.tsv");
        assert_eq!(c.versions(tag, kind), want, "{tag} {kind:?}");
        compared += 1;
    }
    assert_eq!(compared, 2 * c.releases.len());
}

#[test]
fn the_catalog_has_every_1_7_5_migration() {
    let c = catalog();
    assert_eq!(c.versions("1.7.5", MigrationKind::Schema).len(), 138);
    assert_eq!(c.versions("1.7.5", MigrationKind::Data).len(), 27);
    assert_eq!(c.newest().tag, "1.7.5");
    let m = c.get(MigrationKind::Data, "20240815174852").unwrap();
    assert_eq!(m.name, "add_owntracks_points_data");
    assert!(m.transaction);
    // the no-transaction flag matches Rails' disable_ddl_transaction! count (facts.md §2.1: 50 of 138)
    let no_tx = c
        .shipped("1.7.5", MigrationKind::Schema)
        .iter()
        .filter(|m| !m.transaction)
        .count();
    assert_eq!(no_tx, 50);
}
