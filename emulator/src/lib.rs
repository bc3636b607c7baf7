//! A stateful local stand-in for the GitHub, Secret Manager, IAM and Slack APIs.
//!
//! Speaks only wire formats: it shares no request or response types with orchestra's clients,
//! so a wrong shape on either side cannot hide behind a shared struct.
