//! A module resolver confined to the playbook's folder and `stdlib/`.
//!
//! Rhai's file resolver follows absolute paths and `../`, and its errors echo the tokens of the
//! file it tried to parse. This one accepts only relative paths of plain components, looks them
//! up under the allowed roots, refuses anything whose real path (after symlinks) leaves them,
//! and records every file it loads so `--watch` can watch it.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};

/// Where an `import` may look, and what it has loaded.
pub struct ConfinedResolver {
    roots: Vec<Root>,
    loaded: Mutex<HashMap<PathBuf, Shared<Module>>>,
    files: Mutex<Vec<PathBuf>>,
}

struct Root {
    /// As configured, for messages.
    shown: PathBuf,
    /// Canonical, for the containment check.
    real: PathBuf,
}

/// Why an import path was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError {
    /// The path tries to leave the allowed folders.
    #[error(
        "import \"{path}\" is refused: modules must be relative paths inside {roots} (no absolute paths, no `..`)"
    )]
    Escapes {
        /// The path as written.
        path: String,
        /// The allowed folders.
        roots: String,
    },
    /// No such module under any root.
    #[error("module \"{path}\" not found in {roots}")]
    NotFound {
        /// The path as written.
        path: String,
        /// The folders searched.
        roots: String,
    },
    /// The file exists but cannot be read.
    #[error("cannot read module {file}: {reason}")]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The OS error.
        reason: String,
    },
}

impl ConfinedResolver {
    /// A resolver that looks in `roots`, in order (the playbook's folder first, then stdlib).
    pub fn new(roots: &[PathBuf]) -> Self {
        let roots = roots
            .iter()
            .filter_map(|root| {
                let real = fs::canonicalize(root).ok()?;
                Some(Root {
                    shown: root.clone(),
                    real,
                })
            })
            .collect();
        Self {
            roots,
            loaded: Mutex::new(HashMap::new()),
            files: Mutex::new(Vec::new()),
        }
    }

    fn roots_text(&self) -> String {
        if self.roots.is_empty() {
            return "no folder (none of the module folders exists)".to_owned();
        }
        self.roots
            .iter()
            .map(|r| format!("{}/", r.shown.display()))
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// The file an import path names, if it is allowed and exists.
    pub fn locate(&self, path: &str) -> Result<PathBuf, ImportError> {
        let escapes = || ImportError::Escapes {
            path: path.to_owned(),
            roots: self.roots_text(),
        };
        let relative = Path::new(path);
        if path.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(escapes());
        }
        let with_ext = if relative.extension().is_some_and(|e| e == "rhai") {
            relative.to_path_buf()
        } else {
            let mut name = relative.as_os_str().to_owned();
            name.push(".rhai");
            PathBuf::from(name)
        };
        for root in &self.roots {
            let candidate = root.real.join(&with_ext);
            if !candidate.is_file() {
                continue;
            }
            let real = fs::canonicalize(&candidate).map_err(|e| ImportError::Unreadable {
                file: candidate.clone(),
                reason: e.to_string(),
            })?;
            if !real.starts_with(&root.real) {
                return Err(escapes());
            }
            return Ok(real);
        }
        Err(ImportError::NotFound {
            path: path.to_owned(),
            roots: self.roots_text(),
        })
    }

    /// Every module file loaded so far.
    pub fn loaded_files(&self) -> Vec<PathBuf> {
        self.files.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The name a module file is shown by in messages: relative to the working directory when
    /// it is below it.
    pub fn display_name(file: &Path) -> String {
        crate::engine::playbook::display_path(file)
    }

    /// Resolves an `import` at run time.
    pub fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let file = self
            .locate(path)
            .map_err(|e| Box::new(EvalAltResult::ErrorRuntime(e.to_string().into(), pos)))?;
        if let Some(module) = self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&file)
        {
            return Ok(module.clone());
        }
        let shown = Self::display_name(&file);
        let text = fs::read_to_string(&file).map_err(|e| {
            Box::new(EvalAltResult::ErrorRuntime(
                ImportError::Unreadable {
                    file: file.clone(),
                    reason: e.to_string(),
                }
                .to_string()
                .into(),
                pos,
            ))
        })?;
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(file.clone());
        let in_module = |err: Box<EvalAltResult>| {
            Box::new(EvalAltResult::ErrorInModule(shown.clone(), err, pos))
        };
        let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
        ast.set_source(shown.as_str());
        let module: Shared<Module> = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(in_module)?
            .into();
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(file, module.clone());
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver() -> (tempfile::TempDir, ConfinedResolver) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("playbooks")).unwrap();
        fs::write(dir.path().join("playbooks/helper.rhai"), "fn f() { 1 }").unwrap();
        fs::write(dir.path().join("outside.rhai"), "fn g() { 2 }").unwrap();
        let resolver = ConfinedResolver::new(&[dir.path().join("playbooks")]);
        (dir, resolver)
    }

    #[test]
    fn finds_a_module_with_or_without_extension() {
        let (_dir, r) = resolver();
        assert!(r.locate("helper").is_ok());
        assert!(r.locate("helper.rhai").is_ok());
    }

    #[test]
    fn refuses_parent_and_absolute_paths() {
        let (dir, r) = resolver();
        for path in ["../outside", "../../etc/passwd", "/etc/passwd", "a/../../b"] {
            assert!(
                matches!(r.locate(path), Err(ImportError::Escapes { .. })),
                "{path}"
            );
        }
        let abs = dir.path().join("outside.rhai");
        assert!(matches!(
            r.locate(abs.to_str().unwrap()),
            Err(ImportError::Escapes { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlink_that_leaves_the_root() {
        let (dir, r) = resolver();
        std::os::unix::fs::symlink(
            dir.path().join("outside.rhai"),
            dir.path().join("playbooks/link.rhai"),
        )
        .unwrap();
        assert!(matches!(r.locate("link"), Err(ImportError::Escapes { .. })));
    }
}
