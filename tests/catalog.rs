//! The embedded catalog against the ground truth read from every Dawarich release tag
//! (schemas/tag-versions.txt, produced by tools/check_releases.py from Dawarich's repository).

use std::collections::{BTreeMap, BTreeSet};

use dawarich_doctor::catalog::{catalog, identifiers, Batch, Migration, Statement};
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

/// How often each identifier occurs in `sql` (string literals included: they may name JSON keys
/// only, but counting them errs on the safe side).
fn words(sql: &str) -> BTreeMap<&str, usize> {
    let mut n = BTreeMap::new();
    for w in identifiers(sql) {
        *n.entry(w).or_default() += 1;
    }
    n
}

/// Fused job work writes each row once for all members (docs/CATALOG.md, `fuse`): the members of a
/// group walk the same table key, and none reads, in its statement or its `skip-when` conditions, a
/// column another member writes (it may write the same one, e.g. updated_at, as its own assignment).
#[test]
fn members_of_a_fuse_group_share_the_key_and_read_nothing_another_writes() {
    let mut groups: BTreeMap<&str, Vec<(&Migration, &Batch, &Statement)>> = BTreeMap::new();
    for m in &catalog().migrations {
        if let Some((_, s, b)) = m.fusable_job() {
            groups.entry(b.fuse.as_deref().unwrap()).or_default().push((m, b, s));
        }
    }
    let rewrite: BTreeSet<&str> = groups["points-rewrite"]
        .iter()
        .map(|(m, _, _)| m.version.as_str())
        .collect();
    assert_eq!(
        rewrite,
        BTreeSet::from([
            "20241202125248",
            "20250222213848",
            "20250728191359",
            "20260217000001",
            "20260323000002"
        ])
    );
    assert_eq!(
        groups.len(),
        catalog().fused.len(),
        "a combined statement for each group, no other"
    );
    for (g, members) in &groups {
        // the combined statement acts for each member named in $3 and counts its rows under its version
        let combined = &catalog().combined(g).unwrap().sql;
        for (m, _, _) in members {
            let v = &m.version;
            assert!(
                combined.contains(&format!("'{v}' = ANY($3::text[])")) && combined.contains(&format!("AS \"{v}\"")),
                "{g}: the combined statement does not act for {v}"
            );
        }
        let named = combined.matches(" = ANY($3::text[])").count();
        assert_eq!(
            named,
            members.len(),
            "{g}: the combined statement acts for a version that is no member"
        );
        let key = (&members[0].1.table, &members[0].1.pk);
        for (m, b, _) in members {
            assert_eq!((&b.table, &b.pk), key, "{g}: {} walks another key", m.label());
        }
        for (a, _, a_s) in members {
            let writes = a_s.assigned();
            assert!(
                !writes.is_empty() && writes.iter().all(|c| !c.is_empty()),
                "{}: {writes:?}",
                a.label()
            );
            for (o, ob, o_s) in members.iter().filter(|(o, _, _)| o.version != a.version) {
                // what it reads: its statement and its skip-when conditions (evaluated before the walk)
                let conditions: Vec<&str> = ob.skip_when.iter().map(|c| c.sql.as_str()).collect();
                let read = format!("{}\n{}", o_s.sql, conditions.join("\n"));
                let mentions = words(&read);
                let assigned = o_s.assigned();
                for col in &writes {
                    let reads = mentions.get(col.as_str()).copied().unwrap_or(0)
                        - assigned.iter().filter(|c| *c == col).count();
                    assert_eq!(reads, 0, "{g}: {} reads {col}, which {} writes", o.label(), a.label());
                }
            }
        }
    }
    // the country backfill reads lonlat, which the latlon backfill writes: it is no member
    let country_ids = catalog().get(MigrationKind::Data, "20250516180933").unwrap();
    assert!(country_ids.fusable_job().is_none());
    assert!(catalog()
        .get(MigrationKind::Data, "20250222213848")
        .unwrap()
        .fusable_job()
        .unwrap()
        .1
        .assigned()
        .contains(&"lonlat".to_string()));
}
