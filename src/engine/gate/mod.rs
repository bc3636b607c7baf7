//! The one gate every primitive passes through.
//!
//! Primitives declare at registration whether they are local, read remote state, or mutate; the
//! gate — not each primitive's author — then journals reads and mutations, turns mutations into
//! "would …" lines under `--plan`, checks the time-out and cancel flag before each call, names
//! the primitive in every error, and marks every primitive volatile so Rhai's optimiser never
//! calls one at compile time.

mod args;
mod invoke;
mod placeholder;
mod types;

use std::any::TypeId;
use std::sync::Arc;

use rhai::{
    Dynamic, EvalAltResult, FnNamespace, FuncRegistration, Module, NativeCallContext, Position,
    RhaiFunc, Shared,
};

pub use args::Args;
pub use invoke::raise;
pub use placeholder::Placeholder;
pub use types::{Change, Effect, ParamType, PrimitiveDoc, PrimitiveError, Signature};

use super::context::{ChangeScope, RunContext};

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

type Control = dyn Fn(&NativeCallContext, &RunContext, &Args) -> RhaiResult + Send + Sync;
type Call = dyn Fn(&RunContext, &Args) -> Result<Dynamic, PrimitiveError> + Send + Sync;
type Describe = dyn Fn(&RunContext, &Args) -> Result<Change, PrimitiveError> + Send + Sync;
type Apply = dyn Fn(&RunContext, &Args, &Change) -> Result<Dynamic, PrimitiveError> + Send + Sync;
type Target = dyn Fn(&Args) -> String + Send + Sync;
type Probe = dyn Fn(&RunContext, &Args) -> Result<Option<Dynamic>, PrimitiveError> + Send + Sync;

enum Behaviour {
    Local(Box<Call>),
    Control(Box<Control>),
    Read(Box<Target>, Box<Call>),
    CachedRead(Box<Probe>, Box<Target>, Box<Call>),
    Mutate(Box<Describe>, Box<Apply>),
}

struct Primitive {
    qualified: String,
    behaviour: Behaviour,
    /// Whether its changes are out there or orchestra's own run-state records.
    scope: ChangeScope,
    /// The service whose circuit breaker guards this primitive's remote calls.
    service: Option<&'static str>,
}

/// Builds one Rhai module of primitives (e.g. `state`), every function routed through the gate.
pub struct ModuleBuilder {
    name: &'static str,
    service: Option<&'static str>,
    scope: ChangeScope,
    module: Module,
    context: Arc<RunContext>,
    docs: Vec<PrimitiveDoc>,
}

impl ModuleBuilder {
    /// A builder for module `name` whose primitives consult `context`.
    pub fn new(name: &'static str, context: Arc<RunContext>) -> Self {
        Self {
            name,
            service: None,
            scope: ChangeScope::World,
            module: Module::new(),
            context,
            docs: Vec::new(),
        }
    }

    /// Guards every read and mutation registered after this with the circuit breaker of
    /// `service` (`service:NAME` in `orchestra breakers`): when the service keeps failing (no
    /// answer, 5xx), calls are refused at once instead of hammering it, across runs.
    pub fn with_service_breaker(mut self, service: &'static str) -> Self {
        self.service = Some(service);
        self
    }

    /// Marks this module's mutations as orchestra's own bookkeeping (playbook state, the sync
    /// ledger): a plan counts them in one line instead of listing them among the changes the
    /// operator approves.
    pub fn recording_run_state(mut self) -> Self {
        self.scope = ChangeScope::RunState;
        self
    }

    /// Registers a primitive that touches nothing remote.
    pub fn local(
        &mut self,
        signature: Signature,
        call: impl Fn(&RunContext, &Args) -> Result<Dynamic, PrimitiveError> + Send + Sync + 'static,
    ) {
        self.add(signature, Effect::Local, Behaviour::Local(Box::new(call)));
    }

    /// Registers a local primitive that calls back into the script (e.g. `breaker::call`);
    /// the calls it makes pass the gate themselves. Errors from `call` reach the script as
    /// they are, so a callback's own error keeps its position.
    pub fn control(
        &mut self,
        signature: Signature,
        call: impl Fn(&NativeCallContext, &RunContext, &Args) -> RhaiResult + Send + Sync + 'static,
    ) {
        self.add(signature, Effect::Local, Behaviour::Control(Box::new(call)));
    }

    /// Registers a primitive that reads remote state; `target` names what it reads.
    pub fn read(
        &mut self,
        signature: Signature,
        target: impl Fn(&Args) -> String + Send + Sync + 'static,
        call: impl Fn(&RunContext, &Args) -> Result<Dynamic, PrimitiveError> + Send + Sync + 'static,
    ) {
        self.add(
            signature,
            Effect::Read,
            Behaviour::Read(Box::new(target), Box::new(call)),
        );
    }

    /// Registers a read served from an in-process cache when it can be: `probe` answers from
    /// the cache (touching nothing outside the process, so it is neither journaled nor guarded),
    /// and only when it has no answer does `call` read remote state as [`Self::read`] does.
    pub fn cached_read(
        &mut self,
        signature: Signature,
        probe: impl Fn(&RunContext, &Args) -> Result<Option<Dynamic>, PrimitiveError>
        + Send
        + Sync
        + 'static,
        target: impl Fn(&Args) -> String + Send + Sync + 'static,
        call: impl Fn(&RunContext, &Args) -> Result<Dynamic, PrimitiveError> + Send + Sync + 'static,
    ) {
        self.add(
            signature,
            Effect::Read,
            Behaviour::CachedRead(Box::new(probe), Box::new(target), Box::new(call)),
        );
    }

    /// Registers a primitive that changes state: `describe` says what it would change,
    /// `apply` changes it (and is never called under `--plan`).
    pub fn mutate(
        &mut self,
        signature: Signature,
        describe: impl Fn(&RunContext, &Args) -> Result<Change, PrimitiveError> + Send + Sync + 'static,
        apply: impl Fn(&RunContext, &Args, &Change) -> Result<Dynamic, PrimitiveError>
        + Send
        + Sync
        + 'static,
    ) {
        self.add(
            signature,
            Effect::Mutate,
            Behaviour::Mutate(Box::new(describe), Box::new(apply)),
        );
    }

    fn add(&mut self, signature: Signature, effect: Effect, behaviour: Behaviour) {
        let qualified = format!("{}::{}", self.name, signature.name);
        let params: Vec<String> = signature
            .params
            .iter()
            .map(|(name, ty)| format!("{name}: {}", ty.name()))
            .collect();
        self.docs.push(PrimitiveDoc {
            signature: format!(
                "{qualified}({}) -> {}",
                params.join(", "),
                signature.returns
            ),
            name: qualified.clone(),
            effect,
            doc: signature.doc.to_owned(),
        });
        let type_ids: Vec<TypeId> = signature.params.iter().map(|(_, t)| t.type_id()).collect();
        let service = match effect {
            Effect::Local => None,
            Effect::Read | Effect::Mutate => self.service,
        };
        let primitive = Arc::new(Primitive {
            qualified,
            behaviour,
            scope: self.scope,
            service,
        });
        let context = Arc::clone(&self.context);
        let func =
            move |call: Option<NativeCallContext>, args: &mut [&mut Dynamic]| -> RhaiResult {
                let args = Args::take(args);
                let position = call.as_ref().map_or(Position::NONE, |c| c.call_position());
                if let (Behaviour::Control(control), Some(call)) = (&primitive.behaviour, &call) {
                    if let Some(reason) = context.termination() {
                        return Err(super::sandbox::terminated(reason, &context));
                    }
                    return control(call, &context, &args);
                }
                invoke::invoke(&primitive, &context, &args).map_err(|mut err| {
                    if err.position().is_none() {
                        err.set_position(position);
                    }
                    err
                })
            };
        let mut info = params;
        info.push(signature.returns.to_owned());
        let comments: Vec<String> = signature
            .doc
            .lines()
            .map(|line| format!("/// {line}"))
            .collect();
        FuncRegistration::new(signature.name)
            .with_namespace(FnNamespace::Internal)
            .with_params_info(info)
            .with_comments([comments.join("\n")])
            .set_into_module_raw(
                &mut self.module,
                type_ids,
                RhaiFunc::Pure {
                    func: Shared::new(func),
                    has_context: true,
                    is_pure: true,
                    is_volatile: true,
                },
            );
    }

    /// The module name, the finished module, and the docs of its primitives.
    pub fn finish(self) -> (&'static str, Module, Vec<PrimitiveDoc>) {
        (self.name, self.module, self.docs)
    }
}
