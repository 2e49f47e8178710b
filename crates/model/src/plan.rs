use serde::{Deserialize, Serialize};

/// Which bookkeeping table a migration is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationKind {
    /// `db/migrate`, recorded in `schema_migrations`.
    Schema,
    /// `db/data`, recorded in `data_migrations`.
    Data,
}
