//! A gRPC status from Firestore as the shared [`GoogleError`]: the canonical code, the HTTP
//! status Google maps it to (so the breaker and scripts see the same numbers as for the REST
//! clients) and Firestore's message.

use firestore::gcloud_sdk::tonic::{Code, Status};

use super::SERVICE;
use crate::clients::google_error::GoogleError;

/// The [`GoogleError`] of a failed Firestore call. A transport failure (no answer) has no
/// HTTP status, as for the other clients.
pub fn firestore_error(status: &Status) -> GoogleError {
    let (code, http) = match status.code() {
        // A connection that broke under a request (the server went away mid-call) reaches
        // tonic as UNKNOWN "transport error": no answer came, so it is UNAVAILABLE like a
        // connection that could not be made, not a server's refusal.
        Code::Unknown if is_transport_failure(status) => ("UNAVAILABLE", None),
        Code::Ok => ("OK", Some(200)),
        Code::Cancelled => ("CANCELLED", Some(499)),
        Code::Unknown => ("UNKNOWN", Some(500)),
        Code::InvalidArgument => ("INVALID_ARGUMENT", Some(400)),
        Code::DeadlineExceeded => ("DEADLINE_EXCEEDED", Some(504)),
        Code::NotFound => ("NOT_FOUND", Some(404)),
        Code::AlreadyExists => ("ALREADY_EXISTS", Some(409)),
        Code::PermissionDenied => ("PERMISSION_DENIED", Some(403)),
        Code::ResourceExhausted => ("RESOURCE_EXHAUSTED", Some(429)),
        Code::FailedPrecondition => ("FAILED_PRECONDITION", Some(400)),
        Code::Aborted => ("ABORTED", Some(409)),
        Code::OutOfRange => ("OUT_OF_RANGE", Some(400)),
        Code::Unimplemented => ("UNIMPLEMENTED", Some(501)),
        Code::Internal => ("INTERNAL", Some(500)),
        // tonic reports a connection that could not be made or broke as UNAVAILABLE with
        // no answer behind it: the breaker counts it like a REST client's transport failure.
        Code::Unavailable => ("UNAVAILABLE", None),
        Code::DataLoss => ("DATA_LOSS", Some(500)),
        Code::Unauthenticated => ("UNAUTHENTICATED", Some(401)),
    };
    GoogleError {
        service: SERVICE,
        code: code.to_owned(),
        http_status: http,
        message: first_line(status.message()),
    }
}

/// Whether `status` stands for no answer at all: tonic's own transport error behind it.
fn is_transport_failure(status: &Status) -> bool {
    let source_is_transport = std::error::Error::source(status)
        .is_some_and(|source| source.is::<firestore::gcloud_sdk::tonic::transport::Error>());
    source_is_transport || status.message().starts_with("transport error")
}

/// Whether a transaction lost to a concurrent writer and may be run again.
pub fn is_contention(error: &GoogleError) -> bool {
    error.code == "ABORTED"
}

/// Whether a commit was refused because a write's precondition on its document did not hold
/// (it changed, appeared or vanished since it was read): nothing of that commit landed.
pub fn is_precondition_failure(error: &GoogleError) -> bool {
    matches!(
        error.code.as_str(),
        "FAILED_PRECONDITION" | "ALREADY_EXISTS" | "NOT_FOUND"
    )
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    if line.is_empty() {
        "no message".to_owned()
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_is_unavailable_with_no_answer_and_a_real_unknown_is_a_500() {
        let broken = firestore_error(&Status::unknown("transport error"));
        assert_eq!(
            (broken.code.as_str(), broken.http_status),
            ("UNAVAILABLE", None)
        );
        let answered = firestore_error(&Status::unknown("the server could not say"));
        assert_eq!(
            (answered.code.as_str(), answered.http_status),
            ("UNKNOWN", Some(500))
        );
    }
}
