//! Durations in configuration: `"90s"`, `"15m"`, `"7d"`, or a number of seconds.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

pub(crate) fn duration_from_text<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Seconds(u64),
        Human(String),
    }
    match Text::deserialize(de)? {
        Text::Seconds(s) => Ok(Duration::from_secs(s)),
        Text::Human(text) => humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "expected a duration such as \"90s\" or \"15m\", found \"{text}\" ({e})"
            ))
        }),
    }
}

pub(crate) fn duration_to_text<S: serde::Serializer>(
    d: &Duration,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&humantime::format_duration(*d).to_string())
}

pub(crate) fn optional_duration_from_text<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Duration>, D::Error> {
    duration_from_text(de).map(Some)
}

pub(crate) fn optional_duration_to_text<S: serde::Serializer>(
    d: &Option<Duration>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => duration_to_text(d, ser),
        None => ser.serialize_none(),
    }
}
