//! A synthetic future Dawarich release: a folder of SQL files, one per migration (format in
//! `tests/future/README.md`), that the app container's stand-in migrates the way Rails and
//! data_migrate do, for a release Dawarich Doctor's catalog does not know.

use std::path::{Path, PathBuf};

use dawarich_doctor::catalog::catalog;
use dawarich_doctor_model::MigrationKind;

use super::state::Container;

/// One synthetic migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// 14 digits.
    pub version: String,
    /// The snake_case name of the file.
    pub name: String,
    pub kind: MigrationKind,
    /// False for Rails' `disable_ddl_transaction!`: each statement on its own.
    pub transaction: bool,
    pub statements: Vec<String>,
}

impl Migration {
    /// The Ruby class name, as Rails derives it from the file name (`name.camelize`).
    pub fn class_name(&self) -> String {
        camelize(&self.name)
    }

    /// The file name the image would have (`20270101000001_add_doctor_future_note.rb`).
    pub fn file_name(&self) -> String {
        format!("{}_{}.rb", self.version, self.name)
    }

    /// The folder of the image holding it.
    pub fn folder(&self) -> &'static str {
        match self.kind {
            MigrationKind::Schema => "db/migrate",
            MigrationKind::Data => "db/data",
        }
    }

    /// The line of statement `index` in the Ruby file the image would have: `# frozen_string_literal:
    /// true`, a blank line, `class …`, `disable_ddl_transaction!` and a blank line when it has no
    /// transaction, `def change` (`def up` for data migrations), then one `execute` per statement.
    pub fn line_of(&self, index: usize) -> usize {
        let before = if self.transaction { 4 } else { 6 };
        before + index + 1
    }

    /// The method holding the statements (`change`, or `up` for data migrations as data_migrate's
    /// generator writes them).
    pub fn method(&self) -> &'static str {
        match self.kind {
            MigrationKind::Schema => "change",
            MigrationKind::Data => "up",
        }
    }
}

/// ActiveSupport's `camelize` for a snake_case file name.
pub fn camelize(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// The folder of synthetic migrations in this workspace (`tests/future`).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/future")
}

/// Parses one file's text (`name` is the file name).
pub fn parse(file: &str, text: &str) -> Result<Migration, String> {
    let fail = |problem: &str| Err(format!("{file}: {problem}"));
    let Some(stem) = file.strip_suffix(".sql") else {
        return fail("not a .sql file");
    };
    let Some((version, name)) = stem.split_once('_') else {
        return fail("the name is not VERSION_snake_name.sql");
    };
    if version.len() != 14 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return fail("the version is not 14 digits");
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return fail("the name is not snake_case");
    }
    let mut kind = None;
    let mut transaction = None;
    let mut body = vec![];
    let mut in_header = true;
    for line in text.lines() {
        let trimmed = line.trim();
        if in_header {
            if let Some(comment) = trimmed.strip_prefix("--") {
                if let Some((key, value)) = comment.split_once(':') {
                    match (key.trim(), value.trim()) {
                        ("kind", "schema") => kind = Some(MigrationKind::Schema),
                        ("kind", "data") => kind = Some(MigrationKind::Data),
                        ("kind", other) => return fail(&format!("kind `{other}` is not schema or data")),
                        ("transaction", "true") => transaction = Some(true),
                        ("transaction", "false") => transaction = Some(false),
                        ("transaction", other) => return fail(&format!("transaction `{other}` is not true or false")),
                        _ => {}
                    }
                }
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            in_header = false;
        }
        if !trimmed.starts_with("--") {
            body.push(line);
        }
    }
    let (Some(kind), Some(transaction)) = (kind, transaction) else {
        return fail("the header needs `-- kind:` and `-- transaction:`");
    };
    let mut statements = vec![];
    let mut current: Vec<&str> = vec![];
    for line in body.into_iter().chain([";"]) {
        if line.trim() == ";" {
            let statement = current.join("\n").trim().to_string();
            if !statement.is_empty() {
                statements.push(statement);
            }
            current.clear();
        } else {
            current.push(line);
        }
    }
    if statements.is_empty() {
        return fail("no statements");
    }
    Ok(Migration {
        version: version.into(),
        name: name.into(),
        kind,
        transaction,
        statements,
    })
}

/// Reads a folder of synthetic migrations, in version order; every version must be new (unique and
/// newer than every version of the catalog).
pub fn load(dir: &Path) -> Result<Vec<Migration>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut migrations = vec![];
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if !file.ends_with(".sql") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| format!("{file}: {e}"))?;
        migrations.push(parse(&file, &text)?);
    }
    migrations.sort_by(|a, b| a.version.cmp(&b.version));
    if let Some(w) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(format!("version {} is used twice", w[0].version));
    }
    let newest = catalog()
        .migrations
        .iter()
        .map(|m| m.version.as_str())
        .max()
        .unwrap_or("");
    if let Some(m) = migrations.iter().find(|m| m.version.as_str() <= newest) {
        return Err(format!(
            "{}: the version is not newer than the catalog's newest ({newest})",
            m.file_name()
        ));
    }
    Ok(migrations)
}

/// The release whose catalog migrations a container's image ships: its own, or for a future release
/// the catalog's newest.
pub fn catalog_release(c: &Container) -> String {
    match c.future {
        Some(_) => catalog().newest().tag.clone(),
        None => c.release.clone(),
    }
}

/// The synthetic migrations in a container's image (none unless it is a future release).
pub fn of(c: &Container) -> Result<Vec<Migration>, String> {
    c.future.as_deref().map_or(Ok(vec![]), load)
}

/// Every migration file of one kind in a container's image, in version order: `(version, file name
/// without `.rb`)`.
pub fn files(c: &Container, kind: MigrationKind) -> Result<Vec<(String, String)>, String> {
    let mut files: Vec<(String, String)> = catalog()
        .shipped(&catalog_release(c), kind)
        .iter()
        .map(|m| (m.version.clone(), format!("{}_{}", m.version, m.name)))
        .collect();
    files.extend(
        of(c)?
            .into_iter()
            .filter(|m| m.kind == kind)
            .map(|m| (m.version.clone(), format!("{}_{}", m.version, m.name))),
    );
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_has_a_header_and_statements_between_semicolon_lines() {
        let m = parse(
            "20270101000003_add_index.sql",
            "-- kind: schema\n-- transaction: false\n-- why: a note\n\nCREATE INDEX CONCURRENTLY a\n  ON points (id)\n;\n-- a comment\nCREATE INDEX CONCURRENTLY b ON points (user_id)\n",
        )
        .unwrap();
        assert_eq!(m.version, "20270101000003");
        assert_eq!((m.kind, m.transaction), (MigrationKind::Schema, false));
        assert_eq!(
            m.statements,
            [
                "CREATE INDEX CONCURRENTLY a\n  ON points (id)",
                "CREATE INDEX CONCURRENTLY b ON points (user_id)"
            ]
        );
        assert_eq!(m.class_name(), "AddIndex");
        assert_eq!(m.file_name(), "20270101000003_add_index.rb");
        assert_eq!((m.line_of(0), m.line_of(1)), (7, 8));
        assert!(parse("20270101000003_x.sql", "-- kind: schema\nSELECT 1").is_err());
        assert!(parse("2027_x.sql", "-- kind: schema\n-- transaction: true\nSELECT 1").is_err());
        assert!(parse("20270101000003_x.sql", "-- kind: schema\n-- transaction: true\n;\n").is_err());
    }

    #[test]
    fn names_camelize_like_active_support() {
        assert_eq!(camelize("add_doctor_future_note"), "AddDoctorFutureNote");
        assert_eq!(camelize("add_2fa_to_users"), "Add2faToUsers");
    }

    #[test]
    fn the_workspace_s_future_release_loads() {
        let migrations = load(&workspace_dir()).unwrap();
        let kinds: Vec<(MigrationKind, bool)> = migrations.iter().map(|m| (m.kind, m.transaction)).collect();
        assert_eq!(
            kinds,
            [
                (MigrationKind::Schema, true),
                (MigrationKind::Schema, true),
                (MigrationKind::Schema, false),
                (MigrationKind::Data, true)
            ]
        );
    }
}
