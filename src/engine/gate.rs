//! The one gate every primitive passes through.
//!
//! Primitives declare at registration whether they are local, read remote state, or mutate; the
//! gate — not each primitive's author — then journals reads and mutations, turns mutations into
//! "would …" lines under `--plan`, checks the time-out and cancel flag before each call, names
//! the primitive in every error, and marks every primitive volatile so Rhai's optimiser never
//! calls one at compile time.

use std::any::TypeId;
use std::sync::Arc;

use rhai::{
    Dynamic, EvalAltResult, FnNamespace, FuncRegistration, ImmutableString, Map, Module,
    NativeCallContext, Position, RhaiFunc, Shared,
};
use serde::Serialize;

use super::context::{PlannedChange, RunContext};
use super::secret::Secret;
use crate::store::{StepEffect, StepStatus};

type RhaiResult = Result<Dynamic, Box<EvalAltResult>>;

/// What calling a primitive does to the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Touches nothing outside the process (or only reads the local environment): not journaled.
    Local,
    /// Reads remote state: journaled, and really done under `--plan`.
    Read,
    /// Changes state: journaled before and after; under `--plan` only listed.
    Mutate,
}

impl Effect {
    /// The word shown in `orchestra doc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Read => "read",
            Self::Mutate => "mutate",
        }
    }
}

/// The Rhai type of a primitive's parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
    /// An object map.
    Map,
    /// An array.
    Array,
    /// A [`Secret`].
    Secret,
    /// A function pointer or closure.
    Function,
    /// Any value.
    Any,
}

impl ParamType {
    fn type_id(self) -> TypeId {
        match self {
            Self::Str => TypeId::of::<ImmutableString>(),
            Self::Int => TypeId::of::<rhai::INT>(),
            Self::Bool => TypeId::of::<bool>(),
            Self::Map => TypeId::of::<Map>(),
            Self::Array => TypeId::of::<rhai::Array>(),
            Self::Secret => TypeId::of::<Secret>(),
            Self::Function => TypeId::of::<rhai::FnPtr>(),
            Self::Any => TypeId::of::<Dynamic>(),
        }
    }

    /// The name shown in `orchestra doc`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Str => "string",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Map => "map",
            Self::Array => "array",
            Self::Secret => "Secret",
            Self::Function => "fn",
            Self::Any => "any",
        }
    }
}

/// How a primitive looks to a playbook author.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    /// The function name within its module.
    pub name: &'static str,
    /// Parameter names and types.
    pub params: &'static [(&'static str, ParamType)],
    /// The type it returns, as shown in docs.
    pub returns: &'static str,
    /// What it does, for `orchestra doc` (first line is the summary).
    pub doc: &'static str,
}

/// A registered primitive, for `orchestra doc`.
#[derive(Debug, Clone, Serialize)]
pub struct PrimitiveDoc {
    /// `module::name`.
    pub name: String,
    /// `module::name(a: string, b: int) -> Secret`.
    pub signature: String,
    /// Local, read or mutate.
    pub effect: Effect,
    /// The doc text.
    pub doc: String,
}

/// A failure inside a primitive, raised into the script as a catchable error map
/// `#{primitive, message, status}`.
#[derive(Debug, Clone)]
pub struct PrimitiveError {
    /// What went wrong, in words a person acts on (never a secret value).
    pub message: String,
    /// The remote status code, when a remote answered.
    pub status: Option<u16>,
    /// Whether the failure came from a remote service (rather than a check before the call).
    pub from_remote: bool,
}

impl PrimitiveError {
    /// An error with a message and no remote status.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: None,
            from_remote: false,
        }
    }

    /// An error from a remote service: `status` is None when it did not answer at all.
    pub fn remote(message: impl Into<String>, status: Option<u16>) -> Self {
        Self {
            message: message.into(),
            status,
            from_remote: true,
        }
    }

    /// Whether the service itself failed (no answer, or a 5xx) rather than refusing the
    /// request: only these count against its circuit breaker.
    pub fn is_service_failure(&self) -> bool {
        self.from_remote && self.status.is_none_or(|s| s >= 500)
    }
}

impl<T: Into<String>> From<T> for PrimitiveError {
    fn from(message: T) -> Self {
        Self::new(message)
    }
}

/// A primitive's arguments, taken out of Rhai's argument slots.
pub struct Args {
    values: Vec<Dynamic>,
}

impl Args {
    fn get(&self, index: usize) -> Result<&Dynamic, PrimitiveError> {
        self.values
            .get(index)
            .ok_or_else(|| PrimitiveError::new(format!("missing argument {}", index + 1)))
    }

    fn wrong(&self, index: usize, expected: &str) -> PrimitiveError {
        let found = self.values.get(index).map_or("nothing", Dynamic::type_name);
        PrimitiveError::new(format!(
            "argument {} must be {expected}, found {found}",
            index + 1
        ))
    }

    /// Argument `index` as a string.
    pub fn str(&self, index: usize) -> Result<ImmutableString, PrimitiveError> {
        self.get(index)?
            .clone()
            .into_immutable_string()
            .map_err(|_| self.wrong(index, "a string"))
    }

    /// Argument `index` as an integer.
    pub fn int(&self, index: usize) -> Result<i64, PrimitiveError> {
        self.get(index)?
            .as_int()
            .map_err(|_| self.wrong(index, "an integer"))
    }

    /// Argument `index` as a map.
    pub fn map(&self, index: usize) -> Result<Map, PrimitiveError> {
        self.get(index)?
            .clone()
            .try_cast::<Map>()
            .ok_or_else(|| self.wrong(index, "a map"))
    }

    /// Argument `index` as a Secret.
    pub fn secret(&self, index: usize) -> Result<Secret, PrimitiveError> {
        self.get(index)?
            .clone()
            .try_cast::<Secret>()
            .ok_or_else(|| self.wrong(index, "a Secret"))
    }

    /// Argument `index` as a function pointer or closure.
    pub fn function(&self, index: usize) -> Result<rhai::FnPtr, PrimitiveError> {
        self.get(index)?
            .clone()
            .try_cast::<rhai::FnPtr>()
            .ok_or_else(|| self.wrong(index, "a function"))
    }

    /// Argument `index` as it came.
    pub fn any(&self, index: usize) -> Result<&Dynamic, PrimitiveError> {
        self.get(index)
    }
}

/// What a mutating primitive would change: computed before the change is made, shown under
/// `--plan`, and journaled as the step's intent otherwise.
pub struct Change {
    /// What it acts on, e.g. `state key last_run`.
    pub target: String,
    /// What it does, e.g. "set state key `last_run`" (a plan shows it as "would …").
    pub action: String,
    /// The fields it changes: name and new value, already redacted.
    pub fields: Vec<(String, String)>,
    /// What the script gets back under `--plan`, so it can go on.
    pub placeholder: Dynamic,
}

impl Change {
    /// The plan line: "would " and the action.
    pub fn summary(&self) -> String {
        format!("would {}", self.action)
    }

    fn detail(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if fields.is_empty() {
            self.action.clone()
        } else {
            format!("{} ({})", self.action, fields.join(", "))
        }
    }
}

type Control = dyn Fn(&NativeCallContext, &RunContext, &Args) -> RhaiResult + Send + Sync;
type Call = dyn Fn(&RunContext, &Args) -> Result<Dynamic, PrimitiveError> + Send + Sync;
type Describe = dyn Fn(&RunContext, &Args) -> Result<Change, PrimitiveError> + Send + Sync;
type Apply = dyn Fn(&RunContext, &Args, &Change) -> Result<Dynamic, PrimitiveError> + Send + Sync;
type Target = dyn Fn(&Args) -> String + Send + Sync;

enum Behaviour {
    Local(Box<Call>),
    Control(Box<Control>),
    Read(Box<Target>, Box<Call>),
    Mutate(Box<Describe>, Box<Apply>),
}

struct Primitive {
    qualified: String,
    behaviour: Behaviour,
    /// The service whose circuit breaker guards this primitive's remote calls.
    service: Option<&'static str>,
}

/// Builds one Rhai module of primitives (e.g. `state`), every function routed through the gate.
pub struct ModuleBuilder {
    name: &'static str,
    service: Option<&'static str>,
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
            service,
        });
        let context = Arc::clone(&self.context);
        let func =
            move |call: Option<NativeCallContext>, args: &mut [&mut Dynamic]| -> RhaiResult {
                let args = Args {
                    values: args.iter_mut().map(|a| std::mem::take(*a)).collect(),
                };
                let position = call.as_ref().map_or(Position::NONE, |c| c.call_position());
                if let (Behaviour::Control(control), Some(call)) = (&primitive.behaviour, &call) {
                    if let Some(reason) = context.termination() {
                        return Err(super::sandbox::terminated(reason, &context));
                    }
                    return control(call, &context, &args);
                }
                invoke(&primitive, &context, &args).map_err(|mut err| {
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

fn invoke(primitive: &Primitive, context: &RunContext, args: &Args) -> RhaiResult {
    if let Some(reason) = context.termination() {
        return Err(super::sandbox::terminated(reason, context));
    }
    let name = primitive.qualified.as_str();
    let result = match &primitive.behaviour {
        Behaviour::Local(call) => call(context, args),
        Behaviour::Control(_) => Err(PrimitiveError::new("called without a script context")),
        Behaviour::Read(target, call) => {
            let target = target(args);
            journaled(context, name, StepEffect::Read, &target, "", || {
                guarded(context, primitive.service, || call(context, args))
            })
        }
        Behaviour::Mutate(describe, apply) => {
            let change = describe(context, args).map_err(|e| raise(name, e))?;
            if context.is_plan() {
                let detail = change.detail();
                context
                    .begin_step(
                        name,
                        StepEffect::Mutate,
                        &change.target,
                        StepStatus::Planned,
                        &detail,
                    )
                    .map_err(|e| raise(name, e.into()))?;
                context.record_planned(PlannedChange {
                    primitive: name.to_owned(),
                    target: change.target.clone(),
                    summary: change.summary(),
                    fields: change.fields.clone(),
                });
                return Ok(change.placeholder);
            }
            journaled(
                context,
                name,
                StepEffect::Mutate,
                &change.target,
                &change.detail(),
                || guarded(context, primitive.service, || apply(context, args, &change)),
            )
        }
    };
    result.map_err(|e| raise(name, e))
}

/// Runs `call` through the service's breaker, when the primitive has one and the run has a store.
fn guarded(
    context: &RunContext,
    service: Option<&str>,
    call: impl FnOnce() -> Result<Dynamic, PrimitiveError>,
) -> Result<Dynamic, PrimitiveError> {
    let (Some(service), Some(store)) = (service, context.store()) else {
        return call();
    };
    let name = format!("service:{service}");
    let breakers = crate::clients::breaker::Breakers::new(store.clone());
    let policy = crate::clients::breaker::BreakerPolicy::default();
    let store_error = |e: crate::store::StoreError| PrimitiveError::new(e.to_string());
    if let crate::clients::breaker::Admission::Refused {
        retry_in,
        failures,
        last_error,
    } = breakers.admit(&name, policy).map_err(store_error)?
    {
        return Err(PrimitiveError::new(format!(
            "the {service} circuit breaker is open after {failures} failure(s), so no request was sent; next trial in {}{} (`orchestra breakers` shows it, `orchestra breakers reset {name}` closes it)",
            humantime::format_duration(std::time::Duration::from_secs(retry_in.as_secs().max(1))),
            last_error
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        )));
    }
    let result = call();
    match &result {
        Err(e) if e.is_service_failure() => {
            breakers
                .record_failure(&name, policy, &e.message)
                .map_err(store_error)?;
        }
        _ => breakers
            .record_success(&name, policy)
            .map_err(store_error)?,
    }
    result
}

fn journaled(
    context: &RunContext,
    name: &str,
    effect: StepEffect,
    target: &str,
    intent: &str,
    call: impl FnOnce() -> Result<Dynamic, PrimitiveError>,
) -> Result<Dynamic, PrimitiveError> {
    let step = context.begin_step(name, effect, target, StepStatus::Started, intent)?;
    let result = call();
    match &result {
        Ok(_) => context.finish_step(step, StepStatus::Succeeded, intent),
        Err(e) => context.finish_step(step, StepStatus::Failed, &e.message),
    }
    result
}

/// Turns a primitive's failure into the error the script sees: a map naming the primitive.
/// Rhai fills in the call position.
pub fn raise(primitive: &str, error: PrimitiveError) -> Box<EvalAltResult> {
    let mut map = Map::new();
    map.insert("primitive".into(), primitive.into());
    map.insert(
        "message".into(),
        crate::redact::mask(&error.message).into_owned().into(),
    );
    if let Some(status) = error.status {
        map.insert("status".into(), Dynamic::from_int(i64::from(status)));
    }
    Box::new(EvalAltResult::ErrorRuntime(map.into(), Position::NONE))
}
