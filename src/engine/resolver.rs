//! A module resolver confined to the playbook's folder and `stdlib/`.
//!
//! Rhai's file resolver follows absolute paths and `../`, and its errors echo the tokens of the
//! file it tried to parse. This one accepts only relative paths of plain components, looks them
//! up under the allowed roots, refuses anything whose real path (after symlinks) leaves them,
//! and records every file it loads so `--watch` can watch it.
//!
//! A module is evaluated in the importing run's own runtime state, so its top-level work counts
//! against the same operation limit as the playbook's; an import cycle is refused with the
//! cycle named (it would otherwise recurse until the stack overflows); a module over the source
//! size limit is refused unread; and the run's time-out is checked before each module compiles.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rhai::{AST, Engine, EvalAltResult, GlobalRuntimeState, Module, Position, Scope, Shared};

/// Says why the run must stop now (time-out, interrupt), or `None` to go on.
pub type StopCheck = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Where an `import` may look, and what it has loaded.
pub struct ConfinedResolver {
    roots: Vec<Root>,
    loaded: Mutex<HashMap<PathBuf, Shared<Module>>>,
    /// Modules the checker compiled before the run, so the run does not compile them again.
    compiled: Mutex<HashMap<PathBuf, AST>>,
    /// The modules being evaluated right now, outermost first: an import of one is a cycle.
    evaluating: Mutex<Vec<PathBuf>>,
    files: Mutex<Vec<PathBuf>>,
    stop: Option<StopCheck>,
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
    /// The file exists but cannot be read (or is over the size limit).
    #[error("cannot read module {file}: {reason}")]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The OS error, or the size and the limit.
        reason: String,
    },
    /// The module imports itself, directly or through others.
    #[error("import cycle: {chain} (a module may not import itself, directly or through others)")]
    Cycle {
        /// The files of the cycle, `a.rhai → b.rhai → a.rhai`.
        chain: String,
    },
}

/// `a → b → a`: the files of an import cycle, as people see them.
pub fn cycle_text(chain: &[PathBuf], again: &Path) -> String {
    let start = chain.iter().position(|p| p == again).unwrap_or(0);
    chain[start..]
        .iter()
        .chain(std::iter::once(&again.to_path_buf()))
        .map(|p| ConfinedResolver::display_name(p))
        .collect::<Vec<_>>()
        .join(" → ")
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
            compiled: Mutex::new(HashMap::new()),
            evaluating: Mutex::new(Vec::new()),
            files: Mutex::new(Vec::new()),
            stop: None,
        }
    }

    /// The same resolver, checking `stop` before it compiles or evaluates a module.
    pub fn with_stop(mut self, stop: StopCheck) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Keeps the AST the checker compiled for `file`, for the run to use.
    pub fn remember_compiled(&self, file: &Path, ast: AST) {
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(file.to_path_buf(), ast);
    }

    /// Why the run must stop before more work, if it must.
    pub fn must_stop(&self) -> Option<String> {
        self.stop.as_ref().and_then(|stop| stop())
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

    /// Resolves an `import` at run time, evaluating the module in the importer's `global`
    /// state so its operations count against the run's limit.
    pub fn resolve(
        &self,
        engine: &Engine,
        global: &mut GlobalRuntimeState,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let runtime = |message: String| Box::new(EvalAltResult::ErrorRuntime(message.into(), pos));
        let file = self.locate(path).map_err(|e| runtime(e.to_string()))?;
        if let Some(module) = self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&file)
        {
            return Ok(module.clone());
        }
        {
            let evaluating = self.evaluating.lock().unwrap_or_else(|p| p.into_inner());
            if evaluating.contains(&file) {
                let chain = cycle_text(&evaluating, &file);
                return Err(runtime(ImportError::Cycle { chain }.to_string()));
            }
        }
        if let Some(reason) = self.must_stop() {
            return Err(Box::new(EvalAltResult::ErrorTerminated(reason.into(), pos)));
        }
        let shown = Self::display_name(&file);
        let in_module = |err: Box<EvalAltResult>| {
            Box::new(EvalAltResult::ErrorInModule(shown.clone(), err, pos))
        };
        let remembered = self
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&file);
        let ast = match remembered {
            Some(ast) => ast,
            None => {
                let text = crate::engine::playbook::read_source(&file).map_err(|reason| {
                    runtime(
                        ImportError::Unreadable {
                            file: file.clone(),
                            reason,
                        }
                        .to_string(),
                    )
                })?;
                let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
                ast.set_source(shown.as_str());
                ast
            }
        };
        self.files
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(file.clone());
        self.evaluating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(file.clone());
        let evaluated = Module::eval_ast_as_new_raw(engine, &mut Scope::new(), global, &ast);
        self.evaluating
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|f| f != &file);
        let module: Shared<Module> = evaluated.map_err(in_module)?.into();
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
