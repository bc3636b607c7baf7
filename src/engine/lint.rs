//! Compile-time checks Rhai leaves to run time: calls to functions nobody defines, and imports
//! that cannot be resolved.
//!
//! Rhai reports an unknown function only when the call is reached, after earlier side effects
//! have happened. `orchestra check` and `orchestra play` walk the whole AST first (function
//! bodies and imported modules included) and refuse a playbook that calls a function that
//! neither the engine, the script nor its modules define.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rhai::{AST, ASTNode, Engine, Expr, Position, Stmt};

use super::diagnostic::{ScriptDiagnostic, from_parse_error};
use super::resolver::{ConfinedResolver, ImportError, cycle_text};

/// Functions Rhai handles itself, which appear in no package's signature list.
const LANGUAGE_FUNCTIONS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_fn",
    "is_def_var",
    "this",
];

/// The names of every function the engine provides: `name` and `module::name`.
pub struct KnownFunctions {
    names: HashSet<String>,
}

impl KnownFunctions {
    /// Collects the functions registered with `engine` (standard packages included).
    pub fn of(engine: &Engine) -> Self {
        let mut names: HashSet<String> = engine
            .gen_fn_signatures(true)
            .into_iter()
            .filter_map(|signature| signature.split('(').next().map(str::to_owned))
            .collect();
        names.extend(LANGUAGE_FUNCTIONS.iter().map(|s| (*s).to_owned()));
        Self { names }
    }

    fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// The playbook being checked: its canonical path, the name it is shown by, and its text.
pub struct Checked<'a> {
    /// The canonical path (an import of it from a module is a cycle).
    pub path: &'a Path,
    /// The name shown in messages.
    pub file: &'a str,
    /// The source.
    pub text: &'a str,
}

/// Checks `ast` (the playbook) and every module it imports. Returns every finding.
pub fn check(
    engine: &Engine,
    known: &KnownFunctions,
    resolver: &ConfinedResolver,
    playbook: Checked<'_>,
    ast: &AST,
) -> Vec<ScriptDiagnostic> {
    let Checked { path, file, text } = playbook;
    let mut linter = Linter {
        engine,
        known,
        resolver,
        modules: HashMap::new(),
        chain: vec![path.to_path_buf()],
        findings: Vec::new(),
    };
    linter.check_ast(file, text, ast);
    linter.findings
}

struct Linter<'a> {
    engine: &'a Engine,
    known: &'a KnownFunctions,
    resolver: &'a ConfinedResolver,
    /// Module file → its public function names (`None` when it failed to compile).
    modules: HashMap<PathBuf, Option<HashSet<String>>>,
    /// The playbook and the modules being checked right now, outermost first.
    chain: Vec<PathBuf>,
    findings: Vec<ScriptDiagnostic>,
}

struct Call {
    namespace: String,
    name: String,
    pos: Position,
}

/// The function or method call a node of the AST is, with where it stands; `None` for any
/// other node and for an operator (`a + b` is a call to `+` in Rhai's AST). The one reading of
/// "what does this script call", shared by the linter and doctor's permission check.
pub fn function_call<'a>(node: &ASTNode<'a>) -> Option<(&'a rhai::FnCallExpr, Position)> {
    match node {
        ASTNode::Expr(Expr::FnCall(call, pos) | Expr::MethodCall(call, pos))
        | ASTNode::Stmt(Stmt::FnCall(call, pos))
            if call.op_token.is_none() =>
        {
            Some((call, *pos))
        }
        _ => None,
    }
}

impl Linter<'_> {
    fn check_ast(&mut self, file: &str, text: &str, ast: &AST) {
        let mut imports: Vec<(String, String, Position)> = Vec::new();
        let mut calls: Vec<Call> = Vec::new();
        let mut variables: HashSet<String> = HashSet::new();
        ast.walk(&mut |path: &[ASTNode]| {
            match path.last() {
                Some(ASTNode::Stmt(Stmt::Import(import, pos))) => {
                    if let (Expr::StringConstant(module, _), alias) = (&import.0, &import.1) {
                        imports.push((module.to_string(), alias.name.to_string(), *pos));
                    }
                }
                Some(ASTNode::Stmt(Stmt::Var(var, ..))) => {
                    variables.insert(var.0.name.to_string());
                }
                Some(node) => {
                    if let Some((call, pos)) = function_call(node) {
                        calls.push(Call {
                            namespace: call.namespace.to_string(),
                            name: call.name.to_string(),
                            pos,
                        });
                    }
                }
                None => {}
            }
            true
        });
        let own: HashSet<String> = ast.iter_functions().map(|f| f.name.to_owned()).collect();
        let params: HashSet<String> = ast
            .iter_functions()
            .flat_map(|f| f.params.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>())
            .collect();

        let mut aliases: HashMap<String, Option<HashSet<String>>> = HashMap::new();
        for (module, alias, pos) in imports {
            let functions = self.import(file, text, &module, pos);
            aliases.insert(alias, functions);
        }

        for call in calls {
            if call.namespace.is_empty() {
                let defined = own.contains(&call.name)
                    || self.known.contains(&call.name)
                    || variables.contains(&call.name)
                    || params.contains(&call.name);
                if !defined {
                    self.unknown(file, text, &call.name, call.pos, None);
                }
                continue;
            }
            let qualified = format!("{}::{}", call.namespace, call.name);
            match aliases.get(&call.namespace) {
                // The module failed to load; that is reported already.
                Some(None) => {}
                Some(Some(functions)) if functions.contains(&call.name) => {}
                Some(Some(_)) => self.unknown(
                    file,
                    text,
                    &qualified,
                    call.pos,
                    Some(format!("module `{}` defines no such function", call.namespace)),
                ),
                None if self.known.contains(&qualified) || call.namespace == "global" => {}
                None => self.unknown(
                    file,
                    text,
                    &qualified,
                    call.pos,
                    Some(format!(
                        "`orchestra doc {}` lists that module's functions; a script module must be imported first",
                        call.namespace
                    )),
                ),
            }
        }
    }

    fn unknown(&mut self, file: &str, text: &str, name: &str, pos: Position, help: Option<String>) {
        let diagnostic = ScriptDiagnostic::at(
            file,
            Some(text),
            pos,
            format!("unknown function `{name}`"),
            "not defined by orchestra, Rhai, this script or its modules",
        );
        self.findings.push(match help {
            Some(help) => diagnostic.with_help(help),
            None => diagnostic.with_help("`orchestra doc` lists every primitive"),
        });
    }

    /// Resolves, compiles and checks one imported module; returns its public functions.
    fn import(
        &mut self,
        file: &str,
        text: &str,
        module: &str,
        pos: Position,
    ) -> Option<HashSet<String>> {
        let path = match self.resolver.locate(module) {
            Ok(path) => path,
            Err(err) => {
                self.findings.push(ScriptDiagnostic::at(
                    file,
                    Some(text),
                    pos,
                    err.to_string(),
                    "imported here",
                ));
                return None;
            }
        };
        if self.chain.contains(&path) {
            let chain = cycle_text(&self.chain, &path);
            self.findings.push(ScriptDiagnostic::at(
                file,
                Some(text),
                pos,
                ImportError::Cycle { chain }.to_string(),
                "imported here",
            ));
            return None;
        }
        if let Some(known) = self.modules.get(&path) {
            return known.clone();
        }
        if let Some(reason) = self.resolver.must_stop() {
            self.findings.push(ScriptDiagnostic::at(
                file,
                Some(text),
                pos,
                format!("stopped before compiling this module: {reason}"),
                "imported here",
            ));
            return None;
        }
        // Mark before recursing, so a module reached twice is checked once.
        self.modules.insert(path.clone(), None);
        let shown = ConfinedResolver::display_name(&path);
        let importer = format!(
            "imported from {file}:{}:{}",
            pos.line().unwrap_or(0),
            pos.position().unwrap_or(0)
        );
        let module_text = match crate::engine::playbook::read_source(&path) {
            Ok(t) => t,
            Err(err) => {
                self.findings.push(ScriptDiagnostic::at(
                    file,
                    Some(text),
                    pos,
                    format!("cannot read module {shown}: {err}"),
                    "imported here",
                ));
                return None;
            }
        };
        let mut ast = match self.engine.compile(&module_text) {
            Ok(ast) => ast,
            Err(err) => {
                let mut diagnostic = from_parse_error(&shown, &module_text, &err);
                let help = match diagnostic.help.take() {
                    Some(h) => format!("{importer}\n{h}"),
                    None => importer,
                };
                diagnostic = diagnostic.with_help(help);
                self.findings.push(diagnostic);
                return None;
            }
        };
        let functions: HashSet<String> = ast
            .iter_functions()
            .filter(|f| f.access != rhai::FnAccess::Private)
            .map(|f| f.name.to_owned())
            .collect();
        self.modules.insert(path.clone(), Some(functions.clone()));
        self.chain.push(path.clone());
        self.check_ast(&shown, &module_text, &ast);
        self.chain.pop();
        ast.set_source(shown.as_str());
        self.resolver.remember_compiled(&path, ast);
        Some(functions)
    }
}
