//! The sandboxed Rhai engine every playbook runs in.
//!
//! Every limit is set explicitly (Rhai's defaults differ between debug and release builds),
//! `eval` is disabled, variables are checked at compile time, `import` is confined to the
//! playbook's folder and `stdlib/`, the built-in `sleep` is replaced by one that honours the
//! time-out, and scripts reach the world only through the registered primitives.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, Position};

use super::context::{RunContext, Termination};
use super::gate::PrimitiveDoc;
use super::resolver::ConfinedResolver;
use super::{ranges, secret_type};
use crate::config::Limits;

/// How often (in operations) the time-out and cancel flag are checked.
const PROGRESS_CHECK_EVERY: u64 = 256;

/// A configured engine plus what the host needs to know about it.
pub struct Sandbox {
    /// The engine.
    pub engine: Engine,
    /// The module resolver, which remembers every file it loaded (for `--watch`).
    pub resolver: Arc<ConfinedResolver>,
    /// Every registered primitive.
    pub docs: Vec<PrimitiveDoc>,
}

/// Builds the engine for one run.
pub fn build(context: Arc<RunContext>, resolver: Arc<ConfinedResolver>) -> Sandbox {
    let mut engine = Engine::new();
    apply_limits(&mut engine, &context.config().limits);
    engine.disable_symbol("eval");
    engine.set_strict_variables(true);
    engine.set_module_resolver(SharedResolver(Arc::clone(&resolver)));

    let progress_context = Arc::clone(&context);
    engine.on_progress(move |ops| {
        if ops % PROGRESS_CHECK_EVERY != 0 {
            return None;
        }
        progress_context
            .termination()
            .map(|reason| Dynamic::from(termination_message(reason, &progress_context)))
    });

    let print_context = Arc::clone(&context);
    engine.on_print(move |text| print_context.print(text));
    let debug_context = Arc::clone(&context);
    engine.on_debug(move |text, source, pos| {
        let text = crate::secret::mask::mask(text);
        let place = match (source, pos.line()) {
            (Some(source), Some(line)) => format!("{source}:{line}: "),
            (None, Some(line)) => format!("line {line}: "),
            _ => String::new(),
        };
        tracing::debug!(target: "playbook", "{place}{text}");
        debug_context.event("debug", &format!("{place}{text}"));
    });

    secret_type::register(&mut engine, Arc::clone(&context));
    register_sleep(&mut engine, Arc::clone(&context));
    let docs = crate::primitives::register_all(&mut engine, &context);

    Sandbox {
        engine,
        resolver,
        docs,
    }
}

fn apply_limits(engine: &mut Engine, limits: &Limits) {
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_max_modules(limits.max_modules);
    engine.set_max_variables(10_000);
    engine.set_max_functions(10_000);
}

/// The built-in `sleep` blocks past the time-out (and panics on `sleep(1e30)`); this one takes
/// 0 to a day of seconds, refuses anything else by name, and wakes to check the time-out.
fn register_sleep(engine: &mut Engine, context: Arc<RunContext>) {
    let int_context = Arc::clone(&context);
    engine.register_fn(
        "sleep",
        move |seconds: rhai::INT| -> Result<(), Box<EvalAltResult>> {
            sleep_for(&int_context, &Dynamic::from_int(seconds))
        },
    );
    engine.register_fn(
        "sleep",
        move |seconds: rhai::FLOAT| -> Result<(), Box<EvalAltResult>> {
            sleep_for(&context, &Dynamic::from_float(seconds))
        },
    );
}

fn sleep_for(context: &RunContext, seconds: &Dynamic) -> Result<(), Box<EvalAltResult>> {
    let total = ranges::seconds(seconds, "sleep's argument", ranges::MAX_SCRIPT_SECONDS)
        .map_err(|message| Box::new(EvalAltResult::ErrorRuntime(message.into(), Position::NONE)))?;
    sleep_checked(context, total)
}

fn sleep_checked(context: &RunContext, total: Duration) -> Result<(), Box<EvalAltResult>> {
    let step = Duration::from_millis(50);
    let until = std::time::Instant::now() + total;
    loop {
        if let Some(reason) = context.termination() {
            return Err(terminated(reason, context));
        }
        let now = std::time::Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep(step.min(until - now));
    }
}

/// The error that stops a script from outside.
pub fn terminated(reason: Termination, context: &RunContext) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        termination_message(reason, context).into(),
        Position::NONE,
    ))
}

/// What a run stopped from outside is told: the time-out it passed, or the interrupt.
pub fn termination_message(reason: Termination, context: &RunContext) -> String {
    match reason {
        Termination::TimedOut => format!(
            "the run passed its time-out of {} (limits.timeout)",
            humantime::format_duration(context.timeout())
        ),
        Termination::Cancelled => "the run was interrupted (Ctrl-C or SIGTERM)".to_owned(),
    }
}

/// Rhai wants to own its resolver; the host keeps a handle to ask which files were loaded.
struct SharedResolver(Arc<ConfinedResolver>);

impl rhai::ModuleResolver for SharedResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<rhai::Shared<rhai::Module>, Box<EvalAltResult>> {
        // Only reached without a runtime state (Rhai calls resolve_raw when evaluating).
        let mut global = engine.new_global_runtime_state();
        self.0.resolve(engine, &mut global, path, pos)
    }

    fn resolve_raw(
        &self,
        engine: &Engine,
        global: &mut rhai::GlobalRuntimeState,
        _scope: &mut rhai::Scope,
        path: &str,
        pos: Position,
    ) -> Result<rhai::Shared<rhai::Module>, Box<EvalAltResult>> {
        self.0.resolve(engine, global, path, pos)
    }
}
