use serde::{Deserialize, Serialize};

/// Every problem Dawarich Doctor checks for; serialised as the kebab-case ids of the JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    PointsWithoutUser,
    PointsUserMissing,
    PointsUserSoftDeleted,
    PointsLonlatMissing,
    PointsLonlatConflict,
    PointsWithoutTimestamp,
    DuplicatePointsLatlon,
    DuplicatePointsLonlat,
    DuplicateStats,
    DuplicatePlaceVisits,
    DuplicateRawDataArchives,
    UsersNullSettings,
    InvalidIndexes,
    IndexesSetAside,
    BlockingSessions,
    Postgis,
}

impl CheckId {
    /// Every check, in the order a diagnosis runs them.
    pub const ALL: [CheckId; 16] = [
        CheckId::PointsWithoutUser,
        CheckId::PointsUserMissing,
        CheckId::PointsUserSoftDeleted,
        CheckId::PointsLonlatMissing,
        CheckId::PointsLonlatConflict,
        CheckId::PointsWithoutTimestamp,
        CheckId::DuplicatePointsLatlon,
        CheckId::DuplicatePointsLonlat,
        CheckId::DuplicateStats,
        CheckId::DuplicatePlaceVisits,
        CheckId::DuplicateRawDataArchives,
        CheckId::UsersNullSettings,
        CheckId::InvalidIndexes,
        CheckId::IndexesSetAside,
        CheckId::BlockingSessions,
        CheckId::Postgis,
    ];

    /// The id as written on the command line and in JSON, e.g. `points-without-user`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::PointsWithoutUser => "points-without-user",
            CheckId::PointsUserMissing => "points-user-missing",
            CheckId::PointsUserSoftDeleted => "points-user-soft-deleted",
            CheckId::PointsLonlatMissing => "points-lonlat-missing",
            CheckId::PointsLonlatConflict => "points-lonlat-conflict",
            CheckId::PointsWithoutTimestamp => "points-without-timestamp",
            CheckId::DuplicatePointsLatlon => "duplicate-points-latlon",
            CheckId::DuplicatePointsLonlat => "duplicate-points-lonlat",
            CheckId::DuplicateStats => "duplicate-stats",
            CheckId::DuplicatePlaceVisits => "duplicate-place-visits",
            CheckId::DuplicateRawDataArchives => "duplicate-raw-data-archives",
            CheckId::UsersNullSettings => "users-null-settings",
            CheckId::InvalidIndexes => "invalid-indexes",
            CheckId::IndexesSetAside => "indexes-set-aside",
            CheckId::BlockingSessions => "blocking-sessions",
            CheckId::Postgis => "postgis",
        }
    }

    /// The check with this id.
    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A way to repair a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyId {
    /// Give each point the owner its own data names.
    Infer,
    /// Give the points to one chosen user.
    Assign,
    /// Move the rows into quarantine (restorable).
    Quarantine,
    /// Fill a missing column from others.
    Backfill,
    /// Set a value Dawarich reads as its default.
    Default,
    /// Drop and build again.
    Rebuild,
}

impl StrategyId {
    pub const ALL: [StrategyId; 6] = [
        StrategyId::Infer,
        StrategyId::Assign,
        StrategyId::Quarantine,
        StrategyId::Backfill,
        StrategyId::Default,
        StrategyId::Rebuild,
    ];

    /// The id as written on the command line and in JSON, e.g. `infer`.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyId::Infer => "infer",
            StrategyId::Assign => "assign",
            StrategyId::Quarantine => "quarantine",
            StrategyId::Backfill => "backfill",
            StrategyId::Default => "default",
            StrategyId::Rebuild => "rebuild",
        }
    }

    /// The strategy with this id.
    pub fn parse(s: &str) -> Option<StrategyId> {
        StrategyId::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for StrategyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What stops an upgrade: the migration lock, a target older than a translation needs, or a problem
/// a pending migration fails on. Serialised as one string (`lock-held`, `target-too-old`, a check id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockerId {
    LockHeld,
    TargetTooOld,
    Check(CheckId),
}

impl BlockerId {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockerId::LockHeld => "lock-held",
            BlockerId::TargetTooOld => "target-too-old",
            BlockerId::Check(c) => c.as_str(),
        }
    }
}

impl Serialize for BlockerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BlockerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "lock-held" => Ok(BlockerId::LockHeld),
            "target-too-old" => Ok(BlockerId::TargetTooOld),
            other => CheckId::parse(other)
                .map(BlockerId::Check)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown blocker id {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_their_strings_and_parse_back() {
        for c in CheckId::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(CheckId::parse(c.as_str()), Some(c));
            let b = BlockerId::Check(c);
            assert_eq!(
                serde_json::from_value::<BlockerId>(serde_json::to_value(b).unwrap()).unwrap(),
                b
            );
        }
        for s in StrategyId::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(StrategyId::parse(s.as_str()), Some(s));
        }
        assert_eq!(serde_json::to_value(BlockerId::LockHeld).unwrap(), "lock-held");
        assert!(serde_json::from_value::<BlockerId>("nonsense".into()).is_err());
    }
}
