//! `budget::` — this month's Vertex AI spend against the budget kept in Secret Manager
//! (`[budget].secret`), from Cloud Monitoring's token counts priced with `[budget].prices`.
//! The month is a calendar month of `[budget].month_zone` (Pacific Time by default: Cloud
//! Billing's budgets reset on the first of the month there).
//! Read-only; every check is recorded in the state database (not under `--plan`) so
//! `orchestra report budget` shows a history. The budget secret's payload never reaches an
//! error, a log or the database.

use chrono::{DateTime, Utc};
use rhai::{Array, Dynamic, Map};

use super::budget_figures::{BUDGET_FORMAT, Budget, Month, PricedUsage, level, price};
use crate::engine::RunContext;
use crate::engine::gate::{Args, ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::secret::Secret;
use crate::store::{BudgetCheck, BudgetCheckKind, BudgetLevel, now_ms};

/// What a check looks at: a project, a month, and the moment the figures are for.
struct Window {
    project: String,
    month: Month,
    as_of: DateTime<Utc>,
}

/// A playbook's overrides for a one-off check: `#{as_of, alert_at, monthly_usd}`.
#[derive(Default)]
struct Overrides {
    as_of: Option<DateTime<Utc>>,
    alert_at: Option<f64>,
    monthly_usd: Option<f64>,
}

fn number(value: &Dynamic) -> Option<f64> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
}

fn overrides(args: &Args, index: usize) -> Result<Overrides, PrimitiveError> {
    let Ok(options) = args.map(index) else {
        return Ok(Overrides::default());
    };
    let mut parsed = Overrides::default();
    for (key, value) in options {
        let bad =
            |expected: &str| PrimitiveError::new(format!("option `{key}` must be {expected}"));
        match key.as_str() {
            "as_of" => {
                let text = value.to_string();
                parsed.as_of = Some(
                    DateTime::parse_from_rfc3339(&text)
                        .map_err(|_| bad("an RFC 3339 time such as \"2026-03-16T00:00:00Z\""))?
                        .with_timezone(&Utc),
                );
            }
            "alert_at" => {
                parsed.alert_at = Some(
                    number(&value)
                        .filter(|v| *v > 0.0 && *v <= 1.0)
                        .ok_or_else(|| bad("a fraction of the budget above 0 and at most 1"))?,
                );
            }
            "monthly_usd" => {
                parsed.monthly_usd = Some(
                    number(&value)
                        .filter(|v| v.is_finite() && *v > 0.0)
                        .ok_or_else(|| bad("a budget in USD above 0"))?,
                );
            }
            other => {
                return Err(PrimitiveError::new(format!(
                    "unknown option `{other}`: expected as_of, alert_at or monthly_usd"
                )));
            }
        }
    }
    Ok(parsed)
}

fn window(context: &RunContext, as_of: Option<DateTime<Utc>>) -> Result<Window, PrimitiveError> {
    let project = match &context.config().budget.project {
        Some(project) => project.clone(),
        None => context
            .remote()
            .default_project(context.config())
            .ok_or_else(|| {
                PrimitiveError::new(
                    "no project: set [budget].project or [gcp].project in orchestra.toml",
                )
            })?,
    };
    super::secrets::check_project(context, &project)?;
    let as_of = as_of.unwrap_or_else(crate::clock::now);
    Ok(Window {
        project,
        month: Month::of(as_of, &context.config().budget.month_zone),
        as_of,
    })
}

/// Reads and parses the budget secret; errors name the secret and the format, never the payload.
fn read_budget(context: &RunContext) -> Result<Budget, PrimitiveError> {
    let configured = &context.config().budget.secret;
    let secret = super::secrets::resolve(context, configured)
        .map_err(|e| PrimitiveError::new(format!("[budget].secret: {}", e.message)))?;
    let sm = super::secrets::client(context)?;
    let (data, _) = context
        .block_on(sm.access(&secret.version("latest")))?
        .map_err(|e| {
            let what = if e.code == "NOT_FOUND" {
                "does not exist or has no enabled version".to_owned()
            } else {
                format!("cannot be read ({e})")
            };
            PrimitiveError::remote(
                format!(
                    "the budget secret {} ([budget].secret) {what}: it must hold {BUDGET_FORMAT}",
                    secret.name()
                ),
                e.http_status,
            )
        })?;
    // Registered with the redaction layer, so the payload is masked if it ever reaches text.
    let payload = Secret::new(data, context.fingerprint_key()?);
    Budget::parse(payload.expose_for_request()).map_err(|why| {
        PrimitiveError::new(format!(
            "the budget secret {} ([budget].secret) is malformed: {why}; it must hold {BUDGET_FORMAT}",
            secret.name()
        ))
    })
}

fn read_usage(context: &RunContext, window: &Window) -> Result<PricedUsage, PrimitiveError> {
    let monitoring = context
        .remote()
        .monitoring(context.config(), context.cancellation())
        .map_err(PrimitiveError::new)?;
    let tokens = context
        .block_on(monitoring.token_counts(&window.project, window.month.start, window.as_of))?
        .map_err(|e| PrimitiveError::remote(e.to_string(), e.http_status))?;
    Ok(price(&tokens, &context.config().budget.prices))
}

/// Records a check, except under `--plan` (a plan leaves no history behind).
fn record(context: &RunContext, check: BudgetCheck) {
    let Some(store) = context.store().filter(|_| !context.is_plan()) else {
        return;
    };
    if let Err(e) = store.add_budget_check(&check) {
        tracing::warn!("the budget check was not recorded: {e}");
    }
}

fn new_check(
    context: &RunContext,
    kind: BudgetCheckKind,
    window: &Window,
    usage: &PricedUsage,
) -> BudgetCheck {
    BudgetCheck {
        run_id: context.run_id(),
        checked_at: now_ms(),
        kind,
        project: window.project.clone(),
        period_start: window.month.start.timestamp_millis(),
        month: Some(window.month.label().to_owned()),
        month_zone: Some(window.month.zone.clone()),
        as_of: window.as_of.timestamp_millis(),
        spent_usd: usage.spent_usd,
        budget_usd: None,
        alert_at: None,
        projected_usd: None,
        level: None,
        estimate_usd: None,
        within: None,
        unpriced: usage.unpriced.clone(),
        per_model: usage.per_model.clone(),
    }
}

fn usage_map(context: &RunContext, window: &Window, usage: &PricedUsage) -> Map {
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let per_model: Array = usage
        .per_model
        .iter()
        .map(|m| {
            let mut row = Map::new();
            row.insert("model".into(), m.model.clone().into());
            row.insert(
                "input_tokens".into(),
                Dynamic::from_int(m.input_tokens as i64),
            );
            row.insert(
                "output_tokens".into(),
                Dynamic::from_int(m.output_tokens as i64),
            );
            row.insert(
                "cost".into(),
                m.cost_usd.map_or(Dynamic::UNIT, Dynamic::from_float),
            );
            Dynamic::from(row)
        })
        .collect();
    let prices: Map = context
        .config()
        .budget
        .prices
        .iter()
        .map(|(model, p)| {
            let mut price = Map::new();
            price.insert("input".into(), Dynamic::from_float(p.input));
            price.insert("output".into(), Dynamic::from_float(p.output));
            (model.as_str().into(), Dynamic::from(price))
        })
        .collect();
    let mut map = Map::new();
    map.insert("project".into(), window.project.clone().into());
    map.insert("month".into(), window.month.label().into());
    map.insert("month_zone".into(), window.month.zone.clone().into());
    map.insert("from".into(), rfc3339(window.month.start).into());
    map.insert("as_of".into(), rfc3339(window.as_of).into());
    map.insert(
        "elapsed".into(),
        Dynamic::from_float(window.month.elapsed(window.as_of)),
    );
    let days_left = (window.month.end - window.as_of).num_seconds().max(0) as f64 / 86_400.0;
    map.insert("days_left".into(), Dynamic::from_float(days_left));
    map.insert("spent".into(), Dynamic::from_float(usage.spent_usd));
    map.insert("per_model".into(), per_model.into());
    map.insert(
        "unpriced".into(),
        usage
            .unpriced
            .iter()
            .map(|m| Dynamic::from(m.clone()))
            .collect::<Array>()
            .into(),
    );
    map.insert("prices".into(), prices.into());
    map
}

/// The budget (with overrides), this month's usage, and the check as it will be recorded.
fn status(
    context: &RunContext,
    overrides: &Overrides,
    kind: BudgetCheckKind,
) -> Result<(Window, PricedUsage, Budget, BudgetCheck), PrimitiveError> {
    let window = window(context, overrides.as_of)?;
    let mut budget = read_budget(context)?;
    budget.alert_at = overrides.alert_at.unwrap_or(budget.alert_at);
    budget.monthly_usd = overrides.monthly_usd.unwrap_or(budget.monthly_usd);
    let usage = read_usage(context, &window)?;
    let projected = window.month.projected(usage.spent_usd, window.as_of);
    let mut check = new_check(context, kind, &window, &usage);
    check.budget_usd = Some(budget.monthly_usd);
    check.alert_at = Some(budget.alert_at);
    check.projected_usd = Some(projected);
    check.level = Some(level(usage.spent_usd, projected, &budget));
    Ok((window, usage, budget, check))
}

fn status_map(context: &RunContext, args: &Args) -> Result<Dynamic, PrimitiveError> {
    let (window, usage, budget, check) =
        status(context, &overrides(args, 0)?, BudgetCheckKind::Status)?;
    let mut map = usage_map(context, &window, &usage);
    map.insert("budget".into(), Dynamic::from_float(budget.monthly_usd));
    map.insert("alert_at".into(), Dynamic::from_float(budget.alert_at));
    map.insert("threshold".into(), Dynamic::from_float(budget.threshold()));
    map.insert(
        "projected".into(),
        Dynamic::from_float(check.projected_usd.unwrap_or(usage.spent_usd)),
    );
    map.insert(
        "level".into(),
        check.level.unwrap_or(BudgetLevel::Ok).as_str().into(),
    );
    map.insert(
        "secret".into(),
        context.config().budget.secret.clone().into(),
    );
    record(context, check);
    Ok(map.into())
}

fn within(context: &RunContext, args: &Args) -> Result<Dynamic, PrimitiveError> {
    let estimate = number(args.any(0)?)
        .filter(|e| e.is_finite() && *e >= 0.0)
        .ok_or_else(|| PrimitiveError::new("the estimate must be a cost in USD, 0 or more"))?;
    let (_, usage, budget, mut check) =
        status(context, &Overrides::default(), BudgetCheckKind::Within)?;
    // Unpriced usage has an unknown cost: no promise can be made until it is priced.
    let fits = usage.unpriced.is_empty() && usage.spent_usd + estimate <= budget.monthly_usd;
    if !usage.unpriced.is_empty() {
        tracing::warn!(
            "budget::within answers false while models in use have no price in [budget.prices]: {}",
            usage.unpriced.join(", ")
        );
    }
    check.estimate_usd = Some(estimate);
    check.within = Some(fits);
    record(context, check);
    Ok(fits.into())
}

/// Registers `budget::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    let usage = |context: &RunContext, args: &Args| -> Result<Dynamic, PrimitiveError> {
        let window = window(context, overrides(args, 0)?.as_of)?;
        let usage = read_usage(context, &window)?;
        record(
            context,
            new_check(context, BudgetCheckKind::Usage, &window, &usage),
        );
        Ok(usage_map(context, &window, &usage).into())
    };
    module.read(
        Signature {
            name: "usage",
            params: &[],
            returns: "map",
            doc: "This month's Vertex AI tokens and cost (the month of [budget].month_zone, Pacific Time\n\
                  by default, as Cloud Billing counts; [budget].prices): #{month, month_zone, from, as_of,\n\
                  spent, per_model: [#{model, input_tokens, output_tokens, cost}], unpriced, prices}.\n\
                  A model without a price has cost () and is listed in unpriced.",
        },
        |_| "Vertex AI token usage this month".into(),
        usage,
    );
    module.read(
        Signature {
            name: "usage",
            params: &[("options", ParamType::Map)],
            returns: "map",
            doc: "As budget::usage(), for the month of options.as_of (RFC 3339) up to that moment.",
        },
        |_| "Vertex AI token usage".into(),
        usage,
    );
    let status_doc = "This month's spend against the budget in [budget].secret: #{budget, alert_at, threshold,\n\
                      spent, projected (linear to the month's end), level (\"ok\", \"warning\" at the threshold,\n\
                      \"critical\" at the budget, by spend or projection), per_model, unpriced, prices, month,\n\
                      month_zone, from, as_of, elapsed, days_left}.";
    module.read(
        Signature {
            name: "status",
            params: &[],
            returns: "map",
            doc: status_doc,
        },
        |_| "Vertex AI spend against the budget".into(),
        status_map,
    );
    module.read(
        Signature {
            name: "status",
            params: &[("options", ParamType::Map)],
            returns: "map",
            doc: "As budget::status(), with overrides for a one-off check: #{alert_at, monthly_usd,\n\
                  as_of (RFC 3339: the figures as they stood then)}.",
        },
        |_| "Vertex AI spend against the budget".into(),
        status_map,
    );
    module.read(
        Signature {
            name: "within",
            params: &[("estimated_usd", ParamType::Any)],
            returns: "bool",
            doc: "Whether this month's spend plus `estimated_usd` stays within the budget; false\n\
                  while any model in use has no price. Call it before an expensive step.",
        },
        |args| {
            args.any(0)
                .map(|e| format!("budget with {e} USD more"))
                .unwrap_or_default()
        },
        within,
    );
    module
}
