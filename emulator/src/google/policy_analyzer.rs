//! Policy Analyzer's Activity Analyzer, the one query an audit makes:
//! `GET v1/projects/P/locations/global/activityTypes/serviceAccountKeyLastAuthentication/activities:query`,
//! one activity per key that has obtained a token (`lastAuthenticatedTime`, the key's full
//! resource name), paged with `pageSize`/`pageToken`. Keys never used are absent, as they are
//! from Google's answer.

use serde_json::{Value, json};

use crate::http_util::{GoogleCode, Request, Response, google_error, json_response};
use crate::server::Shared;

const KEY_ACTIVITY: &str = "serviceAccountKeyLastAuthentication";

/// Handles the query (segments after `v1`); `None` for any other path.
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Option<Response> {
    let [
        "projects",
        project,
        "locations",
        "global",
        "activityTypes",
        kind,
        "activities:query",
    ] = segments
    else {
        return None;
    };
    if request.method != http::Method::GET {
        return Some(google_error(GoogleCode::NotFound, "no such method"));
    }
    if *kind != KEY_ACTIVITY {
        return Some(google_error(
            GoogleCode::InvalidArgument,
            &format!("Unsupported activity type: {kind}."),
        ));
    }
    let state = shared.state();
    let Some((id, number)) = super::project(&state, project) else {
        return Some(google_error(
            GoogleCode::PermissionDenied,
            &format!(
                "Permission 'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query' denied on resource '//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            ),
        ));
    };
    let activities: Vec<Value> = state
        .google
        .service_accounts
        .iter()
        .filter(|(_, account)| account.project == id)
        .flat_map(|(email, account)| {
            let id = &id;
            account.keys.iter().filter_map(move |key| {
                let used = key.last_authenticated.as_ref()?;
                let name = format!(
                    "//iam.googleapis.com/projects/{id}/serviceAccounts/{email}/keys/{}",
                    key.id
                );
                Some(json!({
                    "activityType": KEY_ACTIVITY,
                    "fullResourceName": name,
                    "activity": {
                        "lastAuthenticatedTime": used,
                        "serviceAccountKey": {
                            "fullResourceName": name,
                            "projectNumber": number.to_string(),
                            "serviceAccountId": account.unique_id,
                        },
                    },
                }))
            })
        })
        .collect();
    let (page, next) = crate::http_util::page(&activities, request);
    let mut answer = json!({"activities": page});
    if let Some(next) = next {
        answer["nextPageToken"] = json!(next);
    }
    Some(json_response(200, &answer))
}
