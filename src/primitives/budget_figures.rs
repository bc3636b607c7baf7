//! The arithmetic of a budget check, apart from any I/O: the budget secret's format, the
//! month an instant falls in, what tokens cost at the configured prices, the linear projection
//! to the month's end, and the level.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::clients::monitoring::ModelTokens;
use crate::config::{ModelPrice, MonthZone};
use crate::store::{BudgetLevel, ModelSpend};

/// What the budget secret must hold, for error messages.
pub const BUDGET_FORMAT: &str = "JSON such as {\"monthly_usd\": 500, \"alert_at\": 0.8} \
     (monthly_usd: the monthly budget in USD, above 0; alert_at: the share of it that raises a \
     warning, above 0 and at most 1, default 0.8)";

/// The alert threshold when the secret names none.
const DEFAULT_ALERT_AT: f64 = 0.8;

/// A monthly budget and the share of it that raises a warning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// USD per calendar month (of `[budget].month_zone`).
    pub monthly_usd: f64,
    /// The warning threshold, as a fraction of `monthly_usd`.
    pub alert_at: f64,
}

fn positive(value: f64) -> bool {
    value.is_finite() && value > 0.0
}

impl Budget {
    /// Parses the budget secret's payload. The error says what is wrong without quoting the
    /// payload: it came from a secret store.
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        // Never serde's message: it quotes the payload and the column it stopped at.
        let value: Value =
            crate::secret::shape::json(payload, "JSON").map_err(|_| "it is not JSON".to_owned())?;
        let object = value.as_object().ok_or("it is not a JSON object")?;
        if object.keys().any(|k| k != "monthly_usd" && k != "alert_at") {
            return Err("it has a key other than monthly_usd and alert_at".into());
        }
        let monthly_usd = object
            .get("monthly_usd")
            .ok_or("monthly_usd is missing")?
            .as_f64()
            .filter(|v| positive(*v))
            .ok_or("monthly_usd is not a number above 0")?;
        let alert_at = match object.get("alert_at") {
            None => DEFAULT_ALERT_AT,
            Some(v) => v
                .as_f64()
                .filter(|v| positive(*v) && *v <= 1.0)
                .ok_or("alert_at is not a number above 0 and at most 1")?,
        };
        Ok(Self {
            monthly_usd,
            alert_at,
        })
    }

    /// The spend that raises a warning.
    pub fn threshold(&self) -> f64 {
        self.monthly_usd * self.alert_at
    }
}

/// A calendar month in a time zone (Cloud Billing's Pacific Time unless `[budget].month_zone`
/// says otherwise), as the instants it starts and ends at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// Its first instant: midnight of the 1st in `zone`.
    pub start: DateTime<Utc>,
    /// The first instant of the next month.
    pub end: DateTime<Utc>,
    /// `2026-03`: the month as `zone`'s calendar names it.
    label: String,
    /// The zone's name (`America/Los_Angeles`, `UTC`).
    pub zone: String,
}

/// Midnight of the 1st of `month` in `zone`, as a UTC instant (or None past the calendar).
fn first_instant(
    year: i16,
    month: i8,
    zone: &jiff::tz::TimeZone,
) -> Option<(DateTime<Utc>, String)> {
    let zoned = jiff::civil::date(year, month, 1)
        .to_zoned(zone.clone())
        .ok()?;
    let start = DateTime::from_timestamp_millis(zoned.timestamp().as_millisecond())?;
    Some((start, format!("{year:04}-{month:02}")))
}

impl Month {
    /// The month `at` falls in, on the calendar of `zone`.
    pub fn of(at: DateTime<Utc>, zone: &MonthZone) -> Self {
        let tz = zone.zone();
        let civil = jiff::Timestamp::from_millisecond(at.timestamp_millis())
            .map(|t| t.to_zoned(tz.clone()).date())
            .ok();
        let (year, month) = civil.map_or((1970, 1), |d| (d.year(), d.month()));
        let (next_year, next_month) = if month == 12 {
            (year.saturating_add(1), 1)
        } else {
            (year, month + 1)
        };
        let (start, label) =
            first_instant(year, month, tz).unwrap_or_else(|| (at, at.format("%Y-%m").to_string()));
        let end = first_instant(next_year, next_month, tz).map_or(at, |(end, _)| end);
        Self {
            start,
            end,
            label,
            zone: zone.name().to_owned(),
        }
    }

    /// `2026-03`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// How much of the month has gone by at `at`, from 0 to 1.
    pub fn elapsed(&self, at: DateTime<Utc>) -> f64 {
        let length = (self.end - self.start).num_seconds() as f64;
        ((at - self.start).num_seconds() as f64 / length).clamp(0.0, 1.0)
    }

    /// `spent` by `at`, continued at the same rate to the month's end. Under a minute into the
    /// month there is no rate yet: the projection is what was spent.
    pub fn projected(&self, spent: f64, at: DateTime<Utc>) -> f64 {
        let gone = (at - self.start).num_seconds();
        if gone < 60 {
            return spent;
        }
        spent / self.elapsed(at)
    }
}

/// Tokens priced: what each model cost, the total, and the models without a price.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedUsage {
    /// Per model, costliest first (unpriced models last).
    pub per_model: Vec<ModelSpend>,
    /// USD spent on priced models.
    pub spent_usd: f64,
    /// Models with usage but no price: their cost is unknown, not 0.
    pub unpriced: Vec<String>,
}

/// Prices `tokens` with `prices` (USD per million tokens).
pub fn price(
    tokens: &BTreeMap<String, ModelTokens>,
    prices: &BTreeMap<String, ModelPrice>,
) -> PricedUsage {
    let mut per_model: Vec<ModelSpend> = tokens
        .iter()
        .filter(|(_, t)| t.input + t.output > 0)
        .map(|(model, t)| ModelSpend {
            model: model.clone(),
            input_tokens: t.input,
            output_tokens: t.output,
            cost_usd: prices.get(model).map(|p| cost(t.input, t.output, p)),
        })
        .collect();
    per_model.sort_by(|a, b| {
        b.cost_usd
            .unwrap_or(-1.0)
            .total_cmp(&a.cost_usd.unwrap_or(-1.0))
            .then_with(|| a.model.cmp(&b.model))
    });
    PricedUsage {
        spent_usd: per_model.iter().filter_map(|m| m.cost_usd).sum(),
        unpriced: per_model
            .iter()
            .filter(|m| m.cost_usd.is_none())
            .map(|m| m.model.clone())
            .collect(),
        per_model,
    }
}

/// What `input` and `output` tokens cost at `price`.
pub fn cost(input: u64, output: u64, price: &ModelPrice) -> f64 {
    (input as f64 * price.input + output as f64 * price.output) / 1_000_000.0
}

/// Critical when spend or its projection reaches the budget, warning when either reaches the
/// threshold, else ok.
pub fn level(spent: f64, projected: f64, budget: &Budget) -> BudgetLevel {
    let worst = spent.max(projected);
    if worst >= budget.monthly_usd {
        BudgetLevel::Critical
    } else if worst >= budget.threshold() {
        BudgetLevel::Warning
    } else {
        BudgetLevel::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn utc() -> MonthZone {
        MonthZone::parse("UTC").unwrap()
    }

    #[test]
    fn the_projection_continues_the_rate_so_far_to_the_month_end() {
        let march = Month::of(at("2026-03-16T00:00:00Z"), &utc());
        assert_eq!(march.start, at("2026-03-01T00:00:00Z"));
        assert_eq!(march.end, at("2026-04-01T00:00:00Z"));
        assert_eq!(march.label(), "2026-03");
        // 15 of 31 days gone: $210 becomes $434.
        let projected = march.projected(210.0, at("2026-03-16T00:00:00Z"));
        assert!((projected - 434.0).abs() < 1e-9, "{projected}");
        assert_eq!(march.projected(90.0, at("2026-04-01T00:00:00Z")), 90.0);
        assert_eq!(march.projected(5.0, at("2026-03-01T00:00:30Z")), 5.0);
        let december = Month::of(at("2026-12-31T23:59:59Z"), &utc());
        assert_eq!(december.end, at("2027-01-01T00:00:00Z"));
        let february = Month::of(at("2028-02-15T00:00:00Z"), &utc());
        assert_eq!((february.end - february.start).num_days(), 29);
    }

    #[test]
    fn a_pacific_month_starts_at_midnight_pacific_and_follows_daylight_saving() {
        let pacific = MonthZone::default();
        // 03:00 UTC on April 1st is still March 31st, 20:00 in California (PDT, UTC-7).
        let march = Month::of(at("2026-04-01T03:00:00Z"), &pacific);
        assert_eq!(march.label(), "2026-03");
        assert_eq!(march.zone, "America/Los_Angeles");
        // March starts in PST (UTC-8) and ends in PDT (UTC-7): one hour short of 31 days.
        assert_eq!(march.start, at("2026-03-01T08:00:00Z"));
        assert_eq!(march.end, at("2026-04-01T07:00:00Z"));
        assert_eq!((march.end - march.start).num_hours(), 31 * 24 - 1);
        let april = Month::of(at("2026-04-01T07:00:00Z"), &pacific);
        assert_eq!(april.label(), "2026-04");
        let december = Month::of(at("2027-01-01T05:00:00Z"), &pacific);
        assert_eq!(december.label(), "2026-12");
        assert_eq!(december.end, at("2027-01-01T08:00:00Z"));
    }

    #[test]
    fn levels_follow_the_worse_of_spend_and_projection() {
        let budget = Budget {
            monthly_usd: 500.0,
            alert_at: 0.8,
        };
        assert_eq!(level(100.0, 300.0, &budget), BudgetLevel::Ok);
        assert_eq!(level(100.0, 400.0, &budget), BudgetLevel::Warning);
        assert_eq!(level(410.0, 410.0, &budget), BudgetLevel::Warning);
        assert_eq!(level(100.0, 500.0, &budget), BudgetLevel::Critical);
        assert_eq!(level(550.0, 550.0, &budget), BudgetLevel::Critical);
    }

    #[test]
    fn unpriced_models_are_listed_and_not_counted_as_free() {
        let tokens = BTreeMap::from([
            (
                "a".to_owned(),
                ModelTokens {
                    input: 2_000_000,
                    output: 1_000_000,
                },
            ),
            (
                "b".to_owned(),
                ModelTokens {
                    input: 10,
                    output: 0,
                },
            ),
            ("idle".to_owned(), ModelTokens::default()),
        ]);
        let prices = BTreeMap::from([(
            "a".to_owned(),
            ModelPrice {
                input: 1.25,
                output: 10.0,
            },
        )]);
        let priced = price(&tokens, &prices);
        assert_eq!(priced.spent_usd, 12.5);
        assert_eq!(priced.unpriced, ["b"]);
        assert_eq!(priced.per_model.len(), 2);
        assert_eq!(priced.per_model[0].cost_usd, Some(12.5));
        assert_eq!(priced.per_model[1].cost_usd, None);
    }

    #[test]
    fn the_budget_format_is_checked_without_quoting_the_payload() {
        assert_eq!(
            Budget::parse(br#"{"monthly_usd": 500}"#).unwrap(),
            Budget {
                monthly_usd: 500.0,
                alert_at: 0.8
            }
        );
        let cases: [(&[u8], &str); 6] = [
            (b"five hundred dollars", "not JSON"),
            (br#"[500]"#, "not a JSON object"),
            (br#"{"monthly": 500}"#, "other than"),
            (br#"{"alert_at": 0.5}"#, "monthly_usd is missing"),
            (br#"{"monthly_usd": "lots"}"#, "monthly_usd is not"),
            (br#"{"monthly_usd": 5, "alert_at": 2}"#, "alert_at is not"),
        ];
        for (payload, why) in cases {
            let error = Budget::parse(payload).unwrap_err();
            assert!(error.contains(why), "{error}");
            assert!(
                !error.contains("lots")
                    && !error.contains("hundred")
                    && !error.contains("monthly\"")
            );
        }
    }
}
