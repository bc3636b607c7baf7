//! `migrate init`: writes `migration.toml` with the seven phases, and the bundled phase
//! playbooks and `stdlib/migration.rhai` where the project has none of its own (a file that
//! exists is never overwritten: it may carry the operator's edits).

use std::path::{Path, PathBuf};

use super::{MigrateError, Migration};

/// The file `migrate` reads unless `--file` names another.
pub const DEFAULT_FILE: &str = "migration.toml";

const TEMPLATE: &str = include_str!("default_migration.toml");

macro_rules! bundled {
    ($($name:literal),+ $(,)?) => {
        &[$(
            (concat!("migration/", $name, ".rhai"), include_str!(concat!("../../playbooks/migration/", $name, ".rhai"))),
            (concat!("migration/", $name, "_verify.rhai"), include_str!(concat!("../../playbooks/migration/", $name, "_verify.rhai"))),
        )+]
    };
}

/// Every phase playbook, by its path under the playbooks folder.
const PLAYBOOKS: &[(&str, &str)] = bundled!(
    "core_infrastructure",
    "workstation_config",
    "memory_system",
    "hybrid_config",
    "ai_coding",
    "api_deployment",
    "validation",
);

const STDLIB: (&str, &str) = (
    "migration.rhai",
    include_str!("../../stdlib/migration.rhai"),
);

/// What `init` wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// Files written, in order.
    pub written: Vec<PathBuf>,
    /// Bundled files left alone because the project has its own.
    pub kept: Vec<PathBuf>,
}

fn checked_project(project: &str) -> Result<&str, MigrateError> {
    // Google's rule: 6 to 30 lowercase letters, digits or hyphens, starting with a letter.
    let ok = (6..=30).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_lowercase())
        && !project.ends_with('-')
        && project
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(project)
    } else {
        Err(MigrateError::Invalid {
            file: PathBuf::from("--project"),
            message: format!(
                "expected a Google Cloud project id (6 to 30 lowercase letters, digits or hyphens, starting with a letter), found '{project}'"
            ),
        })
    }
}

fn write_new(path: &Path, text: &str, done: &mut Written) -> Result<(), MigrateError> {
    if path.exists() {
        done.kept.push(path.to_owned());
        return Ok(());
    }
    write(path, text)?;
    done.written.push(path.to_owned());
    Ok(())
}

/// Writes `text` to `path` atomically (a reader sees the old file or the new one), making its
/// folder first.
pub(super) fn write(path: &Path, text: &str) -> Result<(), MigrateError> {
    let failed = |reason: String| MigrateError::Write {
        file: path.to_owned(),
        reason,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
    }
    crate::scan::atomic::write(path, text).map_err(|e| failed(e.to_string()))
}

/// Writes `file` for `project` (refusing to overwrite it unless `force`), and the bundled
/// playbooks (under `playbooks/` beside `file`, where its paths point) and module (under
/// `stdlib_dir`) that are missing.
pub fn init(
    file: &Path,
    project: &str,
    force: bool,
    stdlib_dir: &Path,
) -> Result<Written, MigrateError> {
    let project = checked_project(project)?;
    if file.exists() && !force {
        return Err(MigrateError::Exists {
            file: file.to_owned(),
        });
    }
    let text = TEMPLATE.replace("@PROJECT@", project);
    // The template is ours: it must parse, or init would write a file migrate then refuses.
    Migration::parse(&text, file)?;
    let mut done = Written {
        written: Vec::new(),
        kept: Vec::new(),
    };
    write(file, &text)?;
    done.written.push(file.to_owned());
    let playbooks_dir = file
        .parent()
        .map_or_else(|| PathBuf::from("playbooks"), |dir| dir.join("playbooks"));
    for (relative, body) in PLAYBOOKS {
        write_new(&playbooks_dir.join(relative), body, &mut done)?;
    }
    write_new(&stdlib_dir.join(STDLIB.0), STDLIB.1, &mut done)?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_seven_phases_and_keeps_existing_playbooks() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("playbooks/migration/validation.rhai");
        std::fs::create_dir_all(own.parent().unwrap()).unwrap();
        std::fs::write(&own, "// mine").unwrap();
        let file = dir.path().join(DEFAULT_FILE);
        let done = init(
            &file,
            "cherry-ai-project",
            false,
            &dir.path().join("stdlib"),
        )
        .unwrap();
        let migration = Migration::load(&file).unwrap();
        assert_eq!(migration.phases.len(), 7);
        assert_eq!(migration.project, "cherry-ai-project");
        assert_eq!(done.kept, vec![own.clone()]);
        assert_eq!(std::fs::read_to_string(&own).unwrap(), "// mine");
        for phase in &migration.phases {
            assert!(
                migration.playbook_path(&phase.execute).is_file(),
                "{}",
                phase.execute
            );
            assert!(
                migration.playbook_path(&phase.verify).is_file(),
                "{}",
                phase.verify
            );
        }
        let again = init(&file, "cherry-ai-project", false, dir.path());
        assert!(matches!(again, Err(MigrateError::Exists { .. })));
    }

    #[test]
    fn a_malformed_project_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = init(&dir.path().join("m.toml"), "Bad_Project", false, dir.path()).unwrap_err();
        assert!(err.to_string().contains("found 'Bad_Project'"), "{err}");
    }
}
