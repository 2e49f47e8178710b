//! Every problem Dawarich Doctor knows, defined once: its title, the table and rows it is about,
//! what Dawarich's migrations do with those rows, and the strategies that repair it. `diagnose`
//! counts them, `repair` fixes them, `migrate::plan` turns them into blockers.

use dawarich_doctor_model::{CheckId, StrategyId};

/// What one Dawarich migration does with the rows a problem is about.
#[derive(Debug, Clone, Copy)]
pub enum Effect {
    /// It fails on them, with this error.
    Fails(&'static str, &'static str),
    /// It fixes them, when the SQL condition (if any) holds on the database.
    Fixes(&'static str, Option<&'static str>, &'static str),
    /// It leaves them and goes on; the text says what Dawarich does with them.
    Skips(&'static str, &'static str),
}

/// One problem.
#[derive(Debug)]
pub struct Problem {
    pub id: CheckId,
    pub title: &'static str,
    /// The table whose rows it is about (empty for problems of the server or the schema).
    pub table: &'static str,
    /// The rows it is about, as an SQL condition on alias `p`, where one condition says it.
    pub condition: Option<&'static str>,
    pub effects: &'static [Effect],
    /// How it can be repaired (none: nothing to repair in the data).
    pub strategies: &'static [StrategyId],
}

const USER_MUST_EXIST: &str = "\"Validation failed: User must exist\" (point.update!)";
/// What the migrations after AddOwntracksPointsData do with points that have no live owner.
const OWNERLESS_SKIPS: [Effect; 3] = [
    Effect::Skips(
        "20250222213848",
        "leaves their lonlat empty: its jobs migrate the points of each existing user only",
    ),
    Effect::Skips(
        "20250516180933",
        "only enqueues country lookups; the lookup skips points it cannot save",
    ),
    Effect::Skips(
        "20260113230537",
        "leaves their timestamp empty when it is missing (it reports them)",
    ),
];
const OWNERLESS: &[Effect] = &[
    Effect::Fails("20240815174852", USER_MUST_EXIST),
    OWNERLESS_SKIPS[0],
    OWNERLESS_SKIPS[1],
    OWNERLESS_SKIPS[2],
];
const OWNER_STRATEGIES: &[StrategyId] = &[StrategyId::Infer, StrategyId::Assign, StrategyId::Quarantine];
const SETTINGS_NIL: &str = "\"undefined method for nil\" (settings.merge on NULL settings)";
const DEDUPE: &[StrategyId] = &[StrategyId::Quarantine];

/// Every problem, in `CheckId::ALL` order.
static PROBLEMS: [Problem; 16] = [
    Problem {
        id: CheckId::PointsWithoutUser,
        title: "Points without a user",
        table: "points",
        condition: Some("p.user_id IS NULL"),
        effects: &[
            Effect::Fails("20240815174852", USER_MUST_EXIST),
            Effect::Fixes(
                "20240525110530",
                Some("EXISTS (SELECT 1 FROM users)"),
                "gives points without a user to the first user",
            ),
            OWNERLESS_SKIPS[0],
            OWNERLESS_SKIPS[1],
            OWNERLESS_SKIPS[2],
        ],
        strategies: OWNER_STRATEGIES,
    },
    Problem {
        id: CheckId::PointsUserMissing,
        title: "Points whose user no longer exists",
        table: "points",
        condition: None,
        effects: OWNERLESS,
        strategies: OWNER_STRATEGIES,
    },
    Problem {
        id: CheckId::PointsUserSoftDeleted,
        title: "Points whose user is soft-deleted",
        table: "points",
        condition: None,
        effects: OWNERLESS,
        strategies: OWNER_STRATEGIES,
    },
    Problem {
        id: CheckId::PointsLonlatMissing,
        title: "Points with coordinates but no lonlat",
        table: "points",
        condition: Some("p.lonlat IS NULL AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL"),
        effects: &[
            Effect::Fixes("20250222213848", None, "fills lonlat from latitude/longitude"),
            Effect::Skips(
                "20250516180933",
                "only enqueues country lookups; the lookup fails on them and is retried (#1327)",
            ),
        ],
        strategies: &[StrategyId::Backfill],
    },
    Problem {
        id: CheckId::PointsLonlatConflict,
        title: "Points whose lonlat backfill would collide",
        table: "points",
        condition: None,
        effects: &[Effect::Fails(
            "20250222213848",
            "PG::UniqueViolation on index_points_on_lonlat_timestamp_user_id (#949)",
        )],
        strategies: &[StrategyId::Quarantine],
    },
    Problem {
        id: CheckId::PointsWithoutTimestamp,
        title: "Points without a timestamp",
        table: "points",
        condition: Some("p.\"timestamp\" IS NULL"),
        effects: &[Effect::Skips(
            "20260113230537",
            "takes it from raw_data; rows without a date there stay without one",
        )],
        strategies: &[],
    },
    Problem {
        id: CheckId::DuplicatePointsLatlon,
        title: "Duplicate points (latitude, longitude, timestamp, user)",
        table: "points",
        condition: None,
        effects: &[Effect::Skips(
            "20250120154555",
            "deletes them before building its unique index",
        )],
        strategies: DEDUPE,
    },
    Problem {
        id: CheckId::DuplicatePointsLonlat,
        title: "Duplicate points (lonlat, timestamp, user)",
        table: "points",
        condition: None,
        effects: &[
            Effect::Fails("20250221194509", "PG::UniqueViolation: could not create unique index"),
            Effect::Fails(
                "20250222213848",
                "PG::UniqueViolation on index_points_on_lonlat_timestamp_user_id",
            ),
        ],
        strategies: DEDUPE,
    },
    Problem {
        id: CheckId::DuplicateStats,
        title: "Duplicate stats (user, year, month)",
        table: "stats",
        condition: None,
        effects: &[Effect::Skips(
            "20251208210410",
            "deletes them (keeping the newest) before building its unique index",
        )],
        strategies: DEDUPE,
    },
    Problem {
        id: CheckId::DuplicatePlaceVisits,
        title: "Duplicate place visits (visit, place)",
        table: "place_visits",
        condition: None,
        effects: &[Effect::Skips(
            "20260310000003",
            "deletes them before building its unique index",
        )],
        strategies: DEDUPE,
    },
    Problem {
        id: CheckId::DuplicateRawDataArchives,
        title: "Duplicate raw-data archives (user, year, month, chunk)",
        table: "points_raw_data_archives",
        condition: None,
        effects: &[Effect::Fails(
            "20260216190000",
            "PG::UniqueViolation: could not create unique index",
        )],
        strategies: DEDUPE,
    },
    Problem {
        id: CheckId::UsersNullSettings,
        title: "Users with NULL settings",
        table: "users",
        // Dawarich's User scope hides soft-deleted users (users.deleted_at, 1.3.1+): its migrations never load them.
        condition: Some("p.settings IS NULL AND (to_jsonb(p) ->> 'deleted_at') IS NULL"),
        effects: &[
            Effect::Fixes(
                "20260112192240",
                None,
                "sets settings to {\"maps\": {…}} for live users without maps",
            ),
            Effect::Fails("20240625201842", SETTINGS_NIL),
            Effect::Fails("20240724141417", SETTINGS_NIL),
            Effect::Fails("20240730130922", SETTINGS_NIL),
            Effect::Fails("20241022100309", SETTINGS_NIL),
            Effect::Fails("20241107112451", SETTINGS_NIL),
            Effect::Fails("20250518174305", "\"undefined method '[]' for nil\" (#1212)"),
        ],
        strategies: &[StrategyId::Default],
    },
    Problem {
        id: CheckId::InvalidIndexes,
        title: "INVALID indexes",
        table: "",
        condition: None,
        effects: &[],
        strategies: &[StrategyId::Rebuild],
    },
    Problem {
        id: CheckId::IndexesSetAside,
        title: "Indexes an unfinished upgrade set aside",
        table: "",
        condition: None,
        effects: &[],
        strategies: &[],
    },
    Problem {
        id: CheckId::BlockingSessions,
        title: "Sessions that would block DDL",
        table: "",
        condition: None,
        effects: &[],
        strategies: &[],
    },
    Problem {
        id: CheckId::Postgis,
        title: "PostGIS available for the upgrade",
        table: "",
        condition: None,
        effects: &[Effect::Fails(
            "20250123145155",
            "could not open extension control file … postgis.control",
        )],
        strategies: &[],
    },
];

/// The problem with this id.
pub fn problem(id: CheckId) -> &'static Problem {
    &PROBLEMS[CheckId::ALL.iter().position(|c| *c == id).expect("every id is in ALL")]
}

/// The problems a repair exists for.
pub fn repairable() -> impl Iterator<Item = &'static Problem> {
    PROBLEMS.iter().filter(|p| !p.strategies.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_defined_once_in_its_place() {
        for (i, id) in CheckId::ALL.into_iter().enumerate() {
            assert_eq!(PROBLEMS[i].id, id);
            assert_eq!(problem(id).id, id);
        }
        let versions: Vec<&str> = PROBLEMS
            .iter()
            .flat_map(|p| p.effects)
            .map(|e| match *e {
                Effect::Fails(v, _) | Effect::Fixes(v, _, _) | Effect::Skips(v, _) => v,
            })
            .collect();
        for v in versions {
            assert!(
                crate::catalog::catalog().migrations.iter().any(|m| m.version == v),
                "{v} is no migration of the catalog"
            );
        }
    }
}
