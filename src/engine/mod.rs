//! The engine: compiles a playbook in a sandbox, checks it, and runs it on its own thread.
//!
//! Knows Rhai and the run context; knows no remote service (primitives do).

pub mod context;
pub mod diagnostic;
pub mod gate;
pub mod lint;
pub mod playbook;
pub mod ranges;
pub mod resolver;
pub mod sandbox;
mod secret_type;
pub mod values;

use std::path::PathBuf;
use std::sync::Arc;

use rhai::{AST, Dynamic, Map, Scope};

pub use context::{ChangeScope, PlannedChange, RunContext, Termination};
pub use diagnostic::ScriptDiagnostic;
pub use playbook::PlaybookSource;

use resolver::ConfinedResolver;
use sandbox::Sandbox;

/// Stack for the playbook thread: deep enough for the configured call depth in debug builds.
const SCRIPT_STACK_BYTES: usize = 64 * 1024 * 1024;

/// A playbook compiled and checked, ready to run once.
pub struct PreparedPlaybook {
    /// The source it was compiled from.
    pub source: PlaybookSource,
    ast: AST,
    sandbox: Sandbox,
    args: Map,
}

/// Compiles `source` in a fresh sandbox bound to `context`, then checks every call and import.
/// Returns every problem found, not only the first.
pub fn prepare(
    source: PlaybookSource,
    context: &Arc<RunContext>,
    args: Map,
) -> Result<PreparedPlaybook, Vec<ScriptDiagnostic>> {
    let roots = module_roots(&source, context.config());
    let stop_context = Arc::clone(context);
    let stop: resolver::StopCheck = Arc::new(move || {
        stop_context
            .termination()
            .map(|reason| sandbox::termination_message(reason, &stop_context))
    });
    let resolver = Arc::new(ConfinedResolver::new(&roots).with_stop(stop));
    let sandbox = sandbox::build(Arc::clone(context), resolver);
    // Compile against `args` as a plain variable: a constant would be folded into the AST,
    // and Rhai panics on an assignment to a folded constant instead of refusing it.
    let mut scope = Scope::new();
    scope.push("args", args.clone());
    let ast = sandbox
        .engine
        .compile_with_scope(&scope, &source.text)
        .map_err(|err| {
            vec![diagnostic::from_parse_error(
                &source.shown,
                &source.text,
                &err,
            )]
        })?;
    let known = lint::KnownFunctions::of(&sandbox.engine);
    let findings = lint::check(
        &sandbox.engine,
        &known,
        &sandbox.resolver,
        lint::Checked {
            path: &source.path,
            file: &source.shown,
            text: &source.text,
        },
        &ast,
    );
    if !findings.is_empty() {
        return Err(findings);
    }
    Ok(PreparedPlaybook {
        source,
        ast,
        sandbox,
        args,
    })
}

/// The folders `import` may read: the playbook's own, then the configured stdlib.
fn module_roots(source: &PlaybookSource, config: &crate::config::Config) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(dir) = source.path.parent() {
        roots.push(dir.to_path_buf());
    }
    roots.push(config.stdlib_dir());
    roots
}

fn script_scope(args: &Map) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push_constant("args", args.clone());
    scope
}

/// How a run of a prepared playbook ended.
pub struct Execution {
    /// The script's result, or the diagnostic it failed with.
    pub result: Result<Dynamic, ScriptDiagnostic>,
    /// Every file the run read: the playbook and the modules it imported.
    pub files: Vec<PathBuf>,
}

impl PreparedPlaybook {
    /// Runs the playbook on its own thread and waits for it.
    pub fn execute(self) -> Execution {
        let PreparedPlaybook {
            source,
            ast,
            sandbox,
            args,
        } = self;
        let resolver = Arc::clone(&sandbox.resolver);
        let limits = sandbox_limits(&sandbox);
        let shown = source.shown.clone();
        let text = source.text.clone();
        let spawned = std::thread::Builder::new()
            .name("playbook".into())
            .stack_size(SCRIPT_STACK_BYTES)
            .spawn(move || {
                let mut scope = script_scope(&args);
                sandbox
                    .engine
                    .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
            });
        let outcome = match spawned {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(rhai::EvalAltResult::ErrorRuntime(
                    "the playbook thread panicked".into(),
                    rhai::Position::NONE,
                )
                .into())
            }),
            Err(err) => Err(rhai::EvalAltResult::ErrorRuntime(
                format!("cannot start the playbook thread: {err}").into(),
                rhai::Position::NONE,
            )
            .into()),
        };
        let result =
            outcome.map_err(|err| diagnostic::from_runtime_error(&shown, &text, &err, &limits));
        let mut files = vec![source.path.clone()];
        files.extend(resolver.loaded_files());
        Execution { result, files }
    }

    /// Evaluates the playbook on the calling thread, leaving it ready to evaluate again
    /// (benchmarks and embedding; `execute` is what runs use).
    pub fn eval_here(&self) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
        let mut scope = script_scope(&self.args);
        self.sandbox
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut scope, &self.ast)
    }

    /// Every registered primitive, for `orchestra doc`.
    pub fn primitive_docs(&self) -> &[gate::PrimitiveDoc] {
        &self.sandbox.docs
    }
}

fn sandbox_limits(sandbox: &Sandbox) -> crate::config::Limits {
    let engine = &sandbox.engine;
    crate::config::Limits {
        max_operations: engine.max_operations(),
        max_call_levels: engine.max_call_levels(),
        max_expr_depth: engine.max_expr_depth(),
        max_string_size: engine.max_string_size(),
        max_array_size: engine.max_array_size(),
        max_map_size: engine.max_map_size(),
        max_modules: engine.max_modules(),
        ..crate::config::Limits::default()
    }
}

/// Every primitive orchestra registers, for `orchestra doc` (no run needed).
pub fn all_primitive_docs(config: Arc<crate::config::Config>) -> Vec<gate::PrimitiveDoc> {
    offline_sandbox(config).docs
}

/// Writes `.d.rhai` definition files for the Rhai language server into `dir`, so an editor
/// completes `secret::` and shows each primitive's doc.
pub fn write_definitions(
    config: Arc<crate::config::Config>,
    dir: &std::path::Path,
) -> std::io::Result<()> {
    let sandbox = offline_sandbox(config);
    std::fs::create_dir_all(dir)?;
    sandbox.engine.definitions().write_to_dir(dir)
}

fn offline_sandbox(config: Arc<crate::config::Config>) -> Sandbox {
    let context = RunContext::builder(config).build();
    let resolver = Arc::new(ConfinedResolver::new(&[]));
    sandbox::build(context, resolver)
}
