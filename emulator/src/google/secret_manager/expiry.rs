//! A secret's expiration: `ttl` (a duration, input only) or `expireTime` (a timestamp) on
//! create and update, `expireTime` in every answer, and the secret deleted once that time has
//! passed on the emulator's calendar (`clock`), checked whenever Secret Manager is called.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::http_util::{GoogleCode, Response, duration_secs, google_error};
use crate::state::State;

fn invalid(message: &str) -> Response {
    google_error(GoogleCode::InvalidArgument, message)
}

fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The expiration a Secret body asks for: `Ok(None)` when it names none, else the RFC 3339
/// expire time (from `expireTime`, or now plus `ttl`). Both at once, a negative or malformed
/// duration, or a time not in the future is refused.
pub(super) fn requested(body: &Value) -> Result<Option<String>, Response> {
    let ttl = body.get("ttl").filter(|v| !v.is_null());
    let expire = body.get("expireTime").filter(|v| !v.is_null());
    let now = crate::clock::now();
    let at = match (ttl, expire) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(invalid(
                "Only one of expire_time and ttl may be set (they are the oneof expiration).",
            ));
        }
        (Some(ttl), None) => {
            let seconds = ttl.as_str().and_then(duration_secs).ok_or_else(|| {
                invalid(&format!(
                    "Invalid value at 'secret.ttl' (type.googleapis.com/google.protobuf.Duration), {ttl}"
                ))
            })?;
            now + chrono::Duration::seconds(seconds)
        }
        (None, Some(expire)) => expire
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                invalid(&format!(
                    "Invalid value at 'secret.expire_time' (type.googleapis.com/google.protobuf.Timestamp), {expire}"
                ))
            })?,
    };
    if at <= now {
        return Err(invalid("The expiration time must be in the future."));
    }
    Ok(Some(timestamp(at)))
}

/// Deletes every secret whose expire time has passed on the emulator's calendar.
pub(super) fn purge(state: &mut State) {
    let now = crate::clock::now();
    state.google.secrets.retain(|_, secret| {
        secret
            .expire_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_none_or(|t| t.with_timezone(&Utc) > now)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_ttl_becomes_an_expire_time_in_the_future() {
        let at = requested(&json!({"ttl": "3600s"})).unwrap().unwrap();
        let at = DateTime::parse_from_rfc3339(&at).unwrap();
        let ahead = at.with_timezone(&Utc) - crate::clock::now();
        assert!((3590..=3600).contains(&ahead.num_seconds()), "{ahead}");
        assert_eq!(requested(&json!({})).unwrap(), None);
    }

    #[test]
    fn both_forms_a_bad_duration_or_a_past_time_are_refused() {
        assert!(requested(&json!({"ttl": "60s", "expireTime": "2999-01-01T00:00:00Z"})).is_err());
        assert!(requested(&json!({"ttl": "soon"})).is_err());
        assert!(requested(&json!({"expireTime": "2000-01-01T00:00:00Z"})).is_err());
    }
}
