//! What the user chooses on the upgrade plan: the repair strategies, and the question each
//! destructive step asks in its native dialog (what exactly happens).

use dawarich_doctor_model::{Confirmation, Failure, LockHolder, RepairChoice, RepairPreview, StrategyId};

use crate::format::{describe_holder, thousands};

/// What the user picked for one repair on the upgrade screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepairPick {
    pub strategy: Option<StrategyId>,
    /// A second strategy for the rows the first leaves (`infer` leaves the unresolved).
    pub then: Option<StrategyId>,
    /// User id for `assign`, as typed.
    pub user: String,
}

impl RepairPick {
    /// `infer` when the check has it (then `quarantine` for the rest), else the first strategy.
    pub fn default_for(p: &RepairPreview) -> RepairPick {
        let has = |n: StrategyId| p.strategies.iter().any(|s| s.name == n);
        let strategy = if has(StrategyId::Infer) {
            Some(StrategyId::Infer)
        } else {
            p.strategies.first().map(|s| s.name)
        };
        let then =
            (strategy == Some(StrategyId::Infer) && has(StrategyId::Quarantine)).then_some(StrategyId::Quarantine);
        RepairPick {
            strategy,
            then,
            user: String::new(),
        }
    }

    /// The repair runs this pick means, in order; an error names what is missing.
    pub fn choices(&self, p: &RepairPreview) -> Result<Vec<RepairChoice>, String> {
        let mut out = Vec::new();
        for name in [self.strategy, self.then].into_iter().flatten() {
            let s = p
                .strategies
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| format!("{}: no strategy {name}", p.title))?;
            let user = if s.needs_user {
                Some(self.user.trim().parse::<i64>().map_err(|_| {
                    format!(
                        "{}: strategy {name} needs the id of the user who gets the rows",
                        p.title
                    )
                })?)
            } else {
                None
            };
            out.push(RepairChoice {
                check: p.check,
                strategy: name,
                user,
            });
        }
        Ok(out)
    }
}

/// The rows each repair run of `choices` (one pick of preview `p`, in order) changes, as previewed:
/// the first strategy's resolved rows, then what it leaves unresolved.
pub fn planned_rows(p: &RepairPreview, choices: &[RepairChoice]) -> Vec<i64> {
    let unresolved = |name: StrategyId| {
        p.strategies
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.rules.iter().find(|r| r.rule == "unresolved"))
            .map(|r| r.count)
            .unwrap_or(0)
    };
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                p.resolves(c.strategy).unwrap_or(0)
            } else {
                unresolved(choices[i - 1].strategy)
            }
        })
        .collect()
}

/// Ending the session that holds the migration lock.
pub fn confirm_release(h: &LockHolder, force: bool) -> Confirmation {
    let mut message = format!(
        "End session {}, which holds the Rails migration lock? {}. Its open transaction is rolled back; a live Dawarich reconnects.",
        h.pid,
        describe_holder(h)
    );
    if force {
        message += " It is running a migration: ended mid CREATE INDEX CONCURRENTLY, it leaves an INVALID index, which the upgrade rebuilds.";
    }
    Confirmation {
        title: format!("End session {}?", h.pid),
        message,
        ok: "End session".into(),
    }
}

/// One repair run changing `rows` rows (as previewed) of preview `p`.
pub fn confirm_repair(p: &RepairPreview, c: &RepairChoice, rows: i64) -> Confirmation {
    let mut what = p.title.clone();
    if let Some(first) = what.get(..1) {
        what = first.to_lowercase() + &what[1..];
    }
    let what = format!("{} {what}", thousands(rows));
    let how = p
        .strategies
        .iter()
        .find(|s| s.name == c.strategy)
        .map(|s| s.description.as_str())
        .unwrap_or("");
    if c.strategy == StrategyId::Quarantine {
        return Confirmation {
            title: format!("Quarantine {what}?"),
            message: format!("Quarantine {what}? They are copied to dawarich_doctor.quarantine_* first, then removed from their table; Undo on the end screen restores them."),
            ok: format!("Quarantine {} rows", thousands(rows)),
        };
    }
    let to = c.user.map(|u| format!(" (user {u})")).unwrap_or_default();
    Confirmation {
        title: format!("Repair {what} with {}?", c.strategy),
        message: format!("Repair {what} with {}{to}: {how}. The old values are copied to dawarich_doctor first; Undo on the end screen reverts them.", c.strategy),
        ok: format!("Repair {} rows", thousands(rows)),
    }
}

/// Applying the pending migrations (no undo: the backup is the way back).
/// `follow_ups`: when Dawarich Doctor manages the containers, how many follow-ups it then runs.
pub fn confirm_migrations(
    schema: usize,
    data: usize,
    from: Option<&str>,
    to: &str,
    follow_ups: Option<usize>,
) -> Confirmation {
    let from = from
        .map(|f| format!("Dawarich {f}"))
        .unwrap_or_else(|| "its unknown release".into());
    let after = match follow_ups {
        Some(0) => " Then Dawarich is started again.".to_string(),
        Some(n) => {
            format!(" Then Dawarich is started again and {n} follow-ups run in its app container (bin/rails runner).")
        }
        None => " Dawarich's containers must be stopped meanwhile.".into(),
    };
    Confirmation {
        title: format!("Apply {} migrations?", schema + data),
        message: format!(
            "Apply {schema} schema and {data} data migrations, taking the database from {from} to Dawarich {to}?{after} Finished migrations are kept if it stops early; there is no undo: your backup is the way back."
        ),
        ok: "Apply migrations".into(),
    }
}

/// Stopping Dawarich's app and sidekiq containers (named) on the Docker host.
pub fn confirm_stop(names: &[String], host: &str) -> Confirmation {
    let names = names.join(" and ");
    Confirmation {
        title: format!("Stop {names}?"),
        message: format!(
            "Stop {names} on {host}? A crash-looping app keeps retrying Rails' migration lock and sidekiq writes to the tables being changed. The upgrade starts them again when it has finished; if it stops early they stay stopped and the end screen says how to start them."
        ),
        ok: "Stop them".into(),
    }
}

/// Fixing a failed start of Dawarich, then starting it again.
pub fn confirm_fix(failure: &Failure) -> Confirmation {
    let what = match failure {
        Failure::UniqueViolation { index, .. } => format!(
            "move the extra rows of each duplicated group under {} into dawarich_doctor.quarantine_* (the highest id stays, as Dawarich's own dedupe keeps; Undo puts them back) and drop the INVALID index the failed build left",
            index.as_deref().unwrap_or("the new unique index")
        ),
        Failure::AlreadyExists { name, .. } => format!(
            "drop the index {name} a half-applied migration left (its definition is kept in the audit log) so that the rerun builds it again"
        ),
        other => other.summary(),
    };
    Confirmation {
        title: "Fix and start Dawarich again?".into(),
        message: format!("Stop Dawarich, {what}, then start Dawarich again and keep watching?"),
        ok: "Fix and start".into(),
    }
}

/// Undoing repair run `run_id`, which changed `rows` rows and quarantined `quarantined` of them.
pub fn confirm_undo(run_id: &str, rows: i64, quarantined: i64) -> Confirmation {
    let what = if quarantined > 0 {
        format!("{} quarantined rows go back to their table", thousands(quarantined))
    } else {
        format!("{} changed rows get their old values back", thousands(rows))
    };
    Confirmation {
        title: format!("Undo run {run_id}?"),
        message: format!("Undo repair run {run_id}? Its {what}."),
        ok: "Undo".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dawarich_doctor_model::CheckId;

    fn owner_preview() -> RepairPreview {
        use dawarich_doctor_model::{RuleCount, StrategyPreview};
        let strategy = |name: StrategyId, needs_user: bool, rules: Vec<(&str, i64)>| StrategyPreview {
            name,
            description: String::new(),
            needs_user,
            rules: rules
                .into_iter()
                .map(|(r, n)| RuleCount {
                    rule: r.into(),
                    description: String::new(),
                    count: n,
                })
                .collect(),
            sql: vec![],
        };
        RepairPreview {
            check: CheckId::PointsWithoutUser,
            title: "Points without a user".into(),
            count: 7,
            sample: vec![],
            strategies: vec![
                strategy(StrategyId::Infer, false, vec![("import", 2), ("unresolved", 5)]),
                strategy(StrategyId::Assign, true, vec![("assign", 7)]),
                strategy(StrategyId::Quarantine, false, vec![("quarantine", 7)]),
            ],
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn owner_repairs_infer_then_quarantine_by_default_and_assign_needs_a_user() {
        let p = owner_preview();
        let pick = RepairPick::default_for(&p);
        assert_eq!(
            (pick.strategy, pick.then),
            (Some(StrategyId::Infer), Some(StrategyId::Quarantine))
        );
        let runs = pick.choices(&p).unwrap();
        assert_eq!(
            runs.iter().map(|c| c.strategy).collect::<Vec<_>>(),
            [StrategyId::Infer, StrategyId::Quarantine]
        );
        assert_eq!(p.resolves(StrategyId::Infer), Some(2));
        let assign = RepairPick {
            then: Some(StrategyId::Assign),
            ..pick.clone()
        };
        assert!(assign.choices(&p).unwrap_err().contains("needs the id"));
        let assign = RepairPick {
            user: " 3 ".into(),
            ..assign
        };
        assert_eq!(assign.choices(&p).unwrap()[1].user, Some(3));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn each_destructive_step_says_exactly_what_happens() {
        let p = owner_preview();
        let runs = RepairPick::default_for(&p).choices(&p).unwrap();
        assert_eq!(
            planned_rows(&p, &runs),
            [2, 5],
            "infer resolves 2, quarantine takes the 5 left"
        );
        let infer = confirm_repair(&p, &runs[0], 2);
        assert_eq!(infer.title, "Repair 2 points without a user with infer?");
        assert!(
            infer.message.contains("Undo") && infer.ok == "Repair 2 rows",
            "{infer:?}"
        );
        let q = confirm_repair(&p, &runs[1], 1234);
        assert_eq!(q.title, "Quarantine 1,234 points without a user?");
        assert!(
            q.message.contains("copied to dawarich_doctor.quarantine_* first") && q.message.contains("Undo"),
            "{q:?}"
        );
        assert_eq!(q.ok, "Quarantine 1,234 rows");
        let assign = RepairChoice {
            check: p.check,
            strategy: StrategyId::Assign,
            user: Some(3),
        };
        assert!(confirm_repair(&p, &assign, 7).message.contains("with assign (user 3)"));

        let d = crate::screens::diagnosis::sample_diagnosis();
        let h = d.lock.holders.iter().find(|h| !h.is_self).unwrap();
        let c = confirm_release(h, false);
        assert_eq!(c.title, format!("End session {}?", h.pid));
        assert!(
            c.message.contains("holds the Rails migration lock")
                && c.message.contains("rolled back")
                && !c.message.contains("INVALID"),
            "{c:?}"
        );
        assert!(confirm_release(h, true).message.contains("INVALID index"));

        let m = confirm_migrations(120, 13, Some("0.9.11"), "1.7.5", None);
        assert_eq!(m.title, "Apply 133 migrations?");
        assert!(
            m.message.contains("from Dawarich 0.9.11 to Dawarich 1.7.5") && m.message.contains("backup"),
            "{m:?}"
        );
        assert!(confirm_migrations(1, 0, None, "1.7.5", None)
            .message
            .contains("its unknown release"));
        assert!(confirm_migrations(1, 0, None, "1.7.5", Some(2))
            .message
            .contains("started again and 2 follow-ups run in its app container"));
        assert!(confirm_undo("r1", 3, 3).message.contains("3 quarantined rows go back"));
        assert!(confirm_undo("r1", 4, 0)
            .message
            .contains("4 changed rows get their old values back"));
    }
}
