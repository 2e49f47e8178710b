//! `verify` compares a live schema with a release's expected schema, exactly.

mod common;

use common::*;
use dawarich_doctor::schema::verify;

#[tokio::test]
async fn a_fresh_install_of_each_release_verifies_clean() {
    let c = dawarich_doctor::catalog::catalog();
    let mut seen = std::collections::BTreeSet::new();
    let tags: Vec<String> = c
        .releases
        .iter()
        .filter(|r| seen.insert(r.schema.clone()))
        .map(|r| r.tag.clone())
        .collect();
    assert!(tags.len() >= 50);
    for tag in tags {
        let (_, db) = dawarich_db(&tag, 0, 0).await;
        let diffs = verify(&db, &tag).await.unwrap();
        assert!(diffs.is_empty(), "{tag}: {diffs:#?}");
    }
}

#[tokio::test]
async fn differences_are_named() {
    let (_, db) = dawarich_db("1.7.5", 0, 0).await;
    db.batch_execute(
        "DROP TABLE place_visits; ALTER TABLE users DROP COLUMN theme; DROP INDEX index_points_on_user_id;
         ALTER TABLE stats ALTER COLUMN distance DROP NOT NULL; CREATE TABLE video_exports (id bigserial primary key);",
    )
    .await
    .unwrap();
    let diffs = verify(&db, "1.7.5").await.unwrap();
    let names: Vec<String> = diffs
        .iter()
        .map(|d| format!("{} {} {}", d.change, d.object, d.name))
        .collect();
    assert_eq!(
        names,
        vec![
            "missing table place_visits",
            "extra table video_exports",
            "different column stats.distance",
            "missing column users.theme",
            "missing index index_points_on_user_id",
        ],
        "{diffs:#?}"
    );
    // the repair statements recreate what is missing, and afterwards only the extra table remains
    let missing: Vec<_> = diffs
        .iter()
        .filter(|d| d.change == dawarich_doctor_model::Change::Missing)
        .cloned()
        .collect();
    for s in dawarich_doctor::schema::repair_statements("1.7.5", &missing).unwrap() {
        db.batch_execute(&s).await.unwrap();
    }
    let left: Vec<String> = verify(&db, "1.7.5")
        .await
        .unwrap()
        .iter()
        .map(|d| format!("{} {} {}", d.change, d.object, d.name))
        .collect();
    assert_eq!(
        left,
        vec!["extra table video_exports", "different column stats.distance"]
    );
}
