//! `[budget]`: where the Vertex AI budget lives, what each model's tokens cost, and the time
//! zone whose calendar months the budget runs over.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The Vertex AI budget `budget::` checks spend against.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetSettings {
    /// The Secret Manager secret holding the budget as JSON, `{"monthly_usd": 500,
    /// "alert_at": 0.8}`: an id in `[gcp].project`, or `projects/P/secrets/ID`.
    pub secret: String,
    /// The project whose Vertex AI usage is watched (default: `[gcp].project`).
    pub project: Option<String>,
    /// USD per million tokens, by model (`model_user_id`, e.g. `gemini-2.5-flash`). Entries
    /// here are merged over the defaults, which are Vertex AI's list prices when this was
    /// written; a model missing from the table is reported, never priced at 0.
    pub prices: BTreeMap<String, ModelPrice>,
    /// Whose calendar the budget month follows: `America/Los_Angeles` (the default, as Cloud
    /// Billing's budgets reset on the first of the month in Pacific Time), or any IANA zone
    /// such as `UTC` for a budget kept on another calendar.
    pub month_zone: MonthZone,
}

/// An IANA time zone, from the tz database bundled into the binary (so a container without
/// `/usr/share/zoneinfo` agrees with a laptop).
#[derive(Debug, Clone)]
pub struct MonthZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

/// Google Cloud Billing's time zone: its budgets and monthly invoices run on Pacific Time.
pub const BILLING_ZONE: &str = "America/Los_Angeles";

impl MonthZone {
    /// The zone named `name` (`America/Los_Angeles`, `UTC`, …).
    pub fn parse(name: &str) -> Result<Self, String> {
        let zone = jiff::tz::db().get(name).map_err(|_| {
            format!(
                "expected an IANA time zone such as \"{BILLING_ZONE}\" or \"UTC\", found \"{name}\""
            )
        })?;
        Ok(Self {
            name: name.to_owned(),
            zone,
        })
    }

    /// The name it was given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone itself.
    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.zone
    }
}

impl Default for MonthZone {
    fn default() -> Self {
        // The bundled database always has it; UTC is the fallback should a build lack it.
        Self::parse(BILLING_ZONE).unwrap_or_else(|_| Self {
            name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
        })
    }
}

impl Serialize for MonthZone {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for MonthZone {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let name = String::deserialize(de)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// What a model's tokens cost, in USD per million.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    /// USD per million input (prompt) tokens.
    #[serde(deserialize_with = "usd_per_million")]
    pub input: f64,
    /// USD per million output (generated) tokens.
    #[serde(deserialize_with = "usd_per_million")]
    pub output: f64,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        let price = |input, output| ModelPrice { input, output };
        Self {
            secret: "vertex-budget".into(),
            project: None,
            prices: BTreeMap::from([
                ("gemini-2.5-pro".to_owned(), price(1.25, 10.0)),
                ("gemini-2.5-flash".to_owned(), price(0.30, 2.50)),
                ("gemini-2.0-flash-lite".to_owned(), price(0.075, 0.30)),
            ]),
            month_zone: MonthZone::default(),
        }
    }
}

fn usd_per_million<'de, D: Deserializer<'de>>(de: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Float(f64),
        Int(i64),
    }
    let value = match Number::deserialize(de).map_err(|_| {
        serde::de::Error::custom("expected a price in USD per million tokens, such as 0.30")
    })? {
        Number::Float(f) => f,
        Number::Int(i) => i as f64,
    };
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "expected a price in USD per million tokens (0 or more), found {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn load(toml: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orchestra.toml"), toml).unwrap();
        Config::load(None, dir.path()).map_err(|e| e.to_string())
    }

    #[test]
    fn prices_are_merged_over_the_defaults() {
        let config = load(
            "[budget]\nsecret = \"team-budget\"\n[budget.prices.\"gemini-2.5-flash\"]\ninput = 0.25\noutput = 2\n[budget.prices.tuned-model]\ninput = 3\noutput = 12\n",
        )
        .unwrap();
        assert_eq!(config.budget.secret, "team-budget");
        assert_eq!(config.budget.prices["gemini-2.5-flash"].input, 0.25);
        assert_eq!(config.budget.prices["gemini-2.5-flash"].output, 2.0);
        assert_eq!(config.budget.prices["tuned-model"].output, 12.0);
        assert_eq!(config.budget.prices["gemini-2.5-pro"].output, 10.0);
    }

    #[test]
    fn the_month_zone_defaults_to_pacific_time_and_takes_any_iana_zone() {
        assert_eq!(
            load("").unwrap().budget.month_zone.name(),
            "America/Los_Angeles"
        );
        let config = load("[budget]\nmonth_zone = \"UTC\"\n").unwrap();
        assert_eq!(config.budget.month_zone.name(), "UTC");
        let err = load("[budget]\nmonth_zone = \"Pacific\"\n").unwrap_err();
        assert!(err.contains("budget.month_zone"), "{err}");
        assert!(err.contains("expected an IANA time zone"), "{err}");
    }

    #[test]
    fn a_bad_price_names_the_field_and_what_was_expected() {
        let err =
            load("[budget.prices.\"gemini-2.5-pro\"]\ninput = -1\noutput = 10\n").unwrap_err();
        assert!(err.contains("budget.prices.gemini-2.5-pro.input"), "{err}");
        assert!(err.contains("USD per million tokens"), "{err}");
        let err = load("[budget.prices.m]\ninput = \"cheap\"\noutput = 1\n").unwrap_err();
        assert!(err.contains("budget.prices.m.input"), "{err}");
        let err = load("[budget.prices.m]\ninput = 1\n").unwrap_err();
        assert!(err.contains("output"), "{err}");
    }
}
