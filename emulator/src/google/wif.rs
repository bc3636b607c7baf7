//! IAM Workload Identity pools and their OIDC providers, as `iam.googleapis.com/v1` serves
//! them: create / get / list / patch (providers) / delete / undelete, every change answered
//! with a long-running operation (`{resource}/operations/{id}`) that a GET reports done;
//! delete is a soft delete (state `DELETED`, `expireTime` 30 days on) that blocks re-creating
//! the id until undeleted (deleting one already deleted, or undeleting one that is not, is
//! FAILED_PRECONDITION for pools and providers alike), and a provider is refused without an
//! attribute condition that reads the token's claims, as Google refuses one.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::cel;
use super::wif_state::{LifeState, Pool, Provider};
use crate::http_util::{GoogleCode, Request, Response, google_error, json_response, rfc3339_in};
use crate::keys;
use crate::server::Shared;
use crate::state::State;

const CONDITION_REFUSED: &str = "The attribute condition must reference one of the provider's claims. For more information, see https://cloud.google.com/iam/docs/workload-identity-federation-with-deployment-pipelines#conditions";

/// `projects/NUMBER/locations/global` of a project given by id or number.
fn parent(state: &State, project: &str, permission: &str) -> Result<String, Response> {
    super::project(state, project)
        .map(|(_, number)| format!("projects/{number}/locations/global"))
        .ok_or_else(|| {
            google_error(
                GoogleCode::PermissionDenied,
                &format!("Permission '{permission}' denied on resource '//iam.googleapis.com/projects/{project}/locations/global' (or it may not exist)."),
            )
        })
}

fn valid_id(id: &str) -> bool {
    (4..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with("gcp-")
        && !id.starts_with('-')
        && !id.ends_with('-')
}

fn state_name(state: LifeState) -> &'static str {
    match state {
        LifeState::Active => "ACTIVE",
        LifeState::Deleted => "DELETED",
    }
}

/// A pool as the API shows it.
pub fn pool_json(name: &str, pool: &Pool) -> Value {
    let mut value = json!({
        "name": name,
        "displayName": pool.display_name,
        "description": pool.description,
        "state": state_name(pool.state),
        "disabled": pool.disabled,
    });
    if let Some(expire) = &pool.expire_time {
        value["expireTime"] = json!(expire);
    }
    value
}

/// A provider as the API shows it.
pub fn provider_json(name: &str, provider: &Provider) -> Value {
    let mut value = json!({
        "name": name,
        "displayName": provider.display_name,
        "description": provider.description,
        "state": state_name(provider.state),
        "disabled": provider.disabled,
        "attributeMapping": provider.attribute_mapping,
        "attributeCondition": provider.attribute_condition,
        "oidc": {"issuerUri": provider.issuer_uri, "allowedAudiences": provider.allowed_audiences},
    });
    if provider.allowed_audiences.is_empty() {
        value["oidc"]
            .as_object_mut()
            .map(|o| o.remove("allowedAudiences"));
    }
    if let Some(expire) = &provider.expire_time {
        value["expireTime"] = json!(expire);
    }
    value
}

/// Records a finished operation on `resource` whose result is `response`; returns what the
/// mutating call answers (the operation, not yet marked done: clients poll it).
fn operation(state: &mut State, resource: &str, kind: &str, response: Value) -> Response {
    let name = format!("{resource}/operations/{}", keys::random_hex(16));
    let mut response = response;
    response["@type"] = json!(format!("type.googleapis.com/google.iam.v1.{kind}"));
    let done = json!({"name": name, "done": true, "response": response});
    state.google.wif.operations.insert(name.clone(), done);
    json_response(200, &json!({"name": name}))
}

/// Routes `projects/{p}/locations/global/workloadIdentityPools[...]` (segments after `v1`).
pub fn handle(shared: &Shared, request: &Request, segments: &[&str]) -> Response {
    use http::Method as M;
    let method = &request.method;
    match segments {
        [
            "projects",
            project,
            "locations",
            "global",
            "workloadIdentityPools",
        ] => match *method {
            M::POST => create_pool(shared, request, project),
            M::GET => list_pools(shared, request, project),
            _ => no_method(request),
        },
        [
            "projects",
            project,
            "locations",
            "global",
            "workloadIdentityPools",
            pool,
        ] => match (pool.split_once(':'), method) {
            (Some((id, "undelete")), &M::POST) => set_pool_state(shared, project, id, false),
            (None, &M::GET) => get_pool(shared, project, pool),
            (None, &M::DELETE) => set_pool_state(shared, project, pool, true),
            _ => no_method(request),
        },
        [
            "projects",
            _,
            "locations",
            "global",
            "workloadIdentityPools",
            _,
            "operations",
            _,
        ]
        | [
            "projects",
            _,
            "locations",
            "global",
            "workloadIdentityPools",
            _,
            "providers",
            _,
            "operations",
            _,
        ] if method == M::GET => get_operation(shared, segments),
        [
            "projects",
            project,
            "locations",
            "global",
            "workloadIdentityPools",
            pool,
            "providers",
        ] => match *method {
            M::POST => create_provider(shared, request, project, pool),
            M::GET => list_providers(shared, request, project, pool),
            _ => no_method(request),
        },
        [
            "projects",
            project,
            "locations",
            "global",
            "workloadIdentityPools",
            pool,
            "providers",
            provider,
        ] => match (provider.split_once(':'), method) {
            (Some((id, "undelete")), &M::POST) => {
                set_provider_state(shared, project, pool, id, false)
            }
            (None, &M::GET) => get_provider(shared, project, pool, provider),
            (None, &M::PATCH) => patch_provider(shared, request, project, pool, provider),
            (None, &M::DELETE) => set_provider_state(shared, project, pool, provider, true),
            _ => no_method(request),
        },
        _ => no_method(request),
    }
}

fn no_method(request: &Request) -> Response {
    google_error(
        GoogleCode::NotFound,
        &format!("no such method: {} {}", request.method, request.path),
    )
}

fn get_operation(shared: &Shared, segments: &[&str]) -> Response {
    let state = shared.state();
    // Operations are named with the project number; accept the id as clients may send it.
    let mut parts: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
    if let Some((_, number)) = super::project(&state, &parts[1]) {
        parts[1] = number.to_string();
    }
    let name = parts.join("/");
    match state.google.wif.operations.get(&name) {
        Some(op) => json_response(200, op),
        None => google_error(
            GoogleCode::NotFound,
            &format!("Operation {name} not found."),
        ),
    }
}

fn body_of(request: &Request) -> Result<Value, Response> {
    request
        .json()
        .map_err(|e| google_error(GoogleCode::InvalidArgument, &e))
}

fn text(body: &Value, field: &str) -> String {
    body.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn create_pool(shared: &Shared, request: &Request, project: &str) -> Response {
    let body = match body_of(request) {
        Ok(body) => body,
        Err(r) => return r,
    };
    let id = request.query("workloadIdentityPoolId").unwrap_or_default();
    if !valid_id(id) {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!(
                "Invalid value for field 'workloadIdentityPoolId': '{id}'. Must be 4 to 32 lowercase letters, digits or hyphens, and must not start with 'gcp-'."
            ),
        );
    }
    shared.change(|state| {
        let parent = match parent(state, project, "iam.workloadIdentityPools.create") {
            Ok(p) => p,
            Err(r) => return r,
        };
        let name = format!("{parent}/workloadIdentityPools/{id}");
        if state.google.wif.pools.contains_key(&name) {
            return google_error(GoogleCode::AlreadyExists, "Requested entity already exists");
        }
        let pool = Pool {
            display_name: text(&body, "displayName"),
            description: text(&body, "description"),
            disabled: body
                .get("disabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            state: LifeState::Active,
            expire_time: None,
            providers: BTreeMap::new(),
        };
        let shown = pool_json(&name, &pool);
        state.google.wif.pools.insert(name.clone(), pool);
        operation(state, &name, "WorkloadIdentityPool", shown)
    })
}

fn pool_name(state: &State, project: &str, id: &str) -> Result<String, Response> {
    let parent = parent(state, project, "iam.workloadIdentityPools.get")?;
    let name = format!("{parent}/workloadIdentityPools/{id}");
    if state.google.wif.pools.contains_key(&name) {
        Ok(name)
    } else {
        Err(google_error(
            GoogleCode::NotFound,
            "Requested entity was not found.",
        ))
    }
}

fn get_pool(shared: &Shared, project: &str, id: &str) -> Response {
    let state = shared.state();
    match pool_name(&state, project, id) {
        Ok(name) => json_response(200, &pool_json(&name, &state.google.wif.pools[&name])),
        Err(r) => r,
    }
}

fn list_pools(shared: &Shared, request: &Request, project: &str) -> Response {
    let state = shared.state();
    let parent = match parent(&state, project, "iam.workloadIdentityPools.list") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let show_deleted = request.query_flag("showDeleted");
    let pools: Vec<Value> = state
        .google
        .wif
        .pools
        .iter()
        .filter(|(name, pool)| {
            name.starts_with(&format!("{parent}/"))
                && (show_deleted || pool.state == LifeState::Active)
        })
        .map(|(name, pool)| pool_json(name, pool))
        .collect();
    let (page, next) = crate::http_util::page(&pools, request);
    let mut answer = json!({"workloadIdentityPools": page});
    if let Some(next) = next {
        answer["nextPageToken"] = json!(next);
    }
    json_response(200, &answer)
}

/// Soft-deletes (`delete`) or undeletes a pool or provider, the same way for both: deleting
/// one already deleted, or undeleting one not deleted, is FAILED_PRECONDITION and changes
/// nothing (in particular not `expireTime`, which counts from the first delete).
fn transition(
    kind: &str,
    name: &str,
    state: &mut LifeState,
    expire_time: &mut Option<String>,
    delete: bool,
) -> Result<(), Response> {
    match (delete, *state) {
        (true, LifeState::Deleted) => Err(google_error(
            GoogleCode::FailedPrecondition,
            &format!("{kind} {name} is already deleted"),
        )),
        (false, LifeState::Active) => Err(google_error(
            GoogleCode::FailedPrecondition,
            &format!("{kind} {name} is not deleted"),
        )),
        (true, LifeState::Active) => {
            *state = LifeState::Deleted;
            *expire_time = Some(rfc3339_in(30 * 86_400));
            Ok(())
        }
        (false, LifeState::Deleted) => {
            *state = LifeState::Active;
            *expire_time = None;
            Ok(())
        }
    }
}

fn set_pool_state(shared: &Shared, project: &str, id: &str, delete: bool) -> Response {
    shared.change(|state| {
        let name = match pool_name(state, project, id) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let Some(pool) = state.google.wif.pools.get_mut(&name) else {
            return google_error(GoogleCode::NotFound, "Requested entity was not found.");
        };
        if let Err(refused) = transition(
            "Pool",
            &name,
            &mut pool.state,
            &mut pool.expire_time,
            delete,
        ) {
            return refused;
        }
        let shown = pool_json(&name, pool);
        operation(state, &name, "WorkloadIdentityPool", shown)
    })
}

/// The provider fields a body sets, checked as Google checks them.
fn provider_fields(
    body: &Value,
    provider: &mut Provider,
    mask: Option<&[&str]>,
) -> Result<(), Response> {
    let wants = |field: &str| mask.is_none_or(|m| m.contains(&field));
    if wants("displayName") || wants("display_name") {
        provider.display_name = text(body, "displayName");
    }
    if wants("description") {
        provider.description = text(body, "description");
    }
    if wants("disabled") {
        provider.disabled = body
            .get("disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }
    if wants("attributeMapping") || wants("attribute_mapping") {
        provider.attribute_mapping = body
            .get("attributeMapping")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
    }
    if wants("attributeCondition") || wants("attribute_condition") {
        provider.attribute_condition = text(body, "attributeCondition");
    }
    if wants("oidc") || wants("oidc.issuer_uri") || wants("oidc.allowed_audiences") {
        let oidc = body.get("oidc").cloned().unwrap_or(Value::Null);
        provider.issuer_uri = text(&oidc, "issuerUri");
        provider.allowed_audiences = oidc
            .get("allowedAudiences")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
    }
    if provider.issuer_uri.is_empty() {
        return Err(google_error(
            GoogleCode::InvalidArgument,
            "An OIDC provider requires oidc.issuerUri.",
        ));
    }
    if !provider.attribute_mapping.contains_key("google.subject") {
        return Err(google_error(
            GoogleCode::InvalidArgument,
            "attribute_mapping must contain a mapping for google.subject.",
        ));
    }
    let empty = serde_json::Map::new();
    let attrs = BTreeMap::new();
    let scope = cel::Scope {
        assertion: &empty,
        attribute: &attrs,
    };
    for (key, expression) in &provider.attribute_mapping {
        if let Err(e) = cel::eval(expression, &scope) {
            return Err(google_error(
                GoogleCode::InvalidArgument,
                &format!("The attribute mapping for {key} is invalid: {e}"),
            ));
        }
    }
    if provider.attribute_condition.trim().is_empty()
        || !cel::references_claims(&provider.attribute_condition)
    {
        return Err(google_error(GoogleCode::InvalidArgument, CONDITION_REFUSED));
    }
    if let Err(e) = cel::eval(&provider.attribute_condition, &scope) {
        return Err(google_error(
            GoogleCode::InvalidArgument,
            &format!("The attribute condition is invalid: {e}"),
        ));
    }
    Ok(())
}

fn create_provider(shared: &Shared, request: &Request, project: &str, pool: &str) -> Response {
    let body = match body_of(request) {
        Ok(body) => body,
        Err(r) => return r,
    };
    let id = request
        .query("workloadIdentityPoolProviderId")
        .unwrap_or_default()
        .to_owned();
    if !valid_id(&id) {
        return google_error(
            GoogleCode::InvalidArgument,
            &format!(
                "Invalid value for field 'workloadIdentityPoolProviderId': '{id}'. Must be 4 to 32 lowercase letters, digits or hyphens, and must not start with 'gcp-'."
            ),
        );
    }
    let mut provider = Provider {
        display_name: String::new(),
        description: String::new(),
        disabled: false,
        state: LifeState::Active,
        expire_time: None,
        attribute_mapping: BTreeMap::new(),
        attribute_condition: String::new(),
        issuer_uri: String::new(),
        allowed_audiences: Vec::new(),
    };
    if let Err(r) = provider_fields(&body, &mut provider, None) {
        return r;
    }
    shared.change(|state| {
        let pool_name = match pool_name(state, project, pool) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let name = format!("{pool_name}/providers/{id}");
        let Some(pool) = state.google.wif.pools.get_mut(&pool_name) else {
            return google_error(GoogleCode::NotFound, "Requested entity was not found.");
        };
        if pool.providers.contains_key(&id) {
            return google_error(GoogleCode::AlreadyExists, "Requested entity already exists");
        }
        let shown = provider_json(&name, &provider);
        pool.providers.insert(id.clone(), provider);
        operation(state, &name, "WorkloadIdentityPoolProvider", shown)
    })
}

fn list_providers(shared: &Shared, request: &Request, project: &str, pool: &str) -> Response {
    let state = shared.state();
    let name = match pool_name(&state, project, pool) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let show_deleted = request.query_flag("showDeleted");
    let providers: Vec<Value> = state.google.wif.pools[&name]
        .providers
        .iter()
        .filter(|(_, p)| show_deleted || p.state == LifeState::Active)
        .map(|(id, p)| provider_json(&format!("{name}/providers/{id}"), p))
        .collect();
    let (page, next) = crate::http_util::page(&providers, request);
    let mut answer = json!({"workloadIdentityPoolProviders": page});
    if let Some(next) = next {
        answer["nextPageToken"] = json!(next);
    }
    json_response(200, &answer)
}

fn get_provider(shared: &Shared, project: &str, pool: &str, id: &str) -> Response {
    let state = shared.state();
    let name = match pool_name(&state, project, pool) {
        Ok(n) => n,
        Err(r) => return r,
    };
    match state.google.wif.pools[&name].providers.get(id) {
        Some(p) => json_response(200, &provider_json(&format!("{name}/providers/{id}"), p)),
        None => google_error(GoogleCode::NotFound, "Requested entity was not found."),
    }
}

fn patch_provider(
    shared: &Shared,
    request: &Request,
    project: &str,
    pool: &str,
    id: &str,
) -> Response {
    let body = match body_of(request) {
        Ok(body) => body,
        Err(r) => return r,
    };
    let Some(mask) = request.query("updateMask").map(str::to_owned) else {
        return google_error(GoogleCode::InvalidArgument, "update_mask is required");
    };
    let fields: Vec<&str> = mask.split(',').map(str::trim).collect();
    shared.change(|state| {
        let pool_name = match pool_name(state, project, pool) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let Some(existing) = state
            .google
            .wif
            .pools
            .get_mut(&pool_name)
            .and_then(|p| p.providers.get_mut(id))
        else {
            return google_error(GoogleCode::NotFound, "Requested entity was not found.");
        };
        let mut changed = existing.clone();
        if let Err(r) = provider_fields(&body, &mut changed, Some(&fields)) {
            return r;
        }
        *existing = changed;
        let name = format!("{pool_name}/providers/{id}");
        let shown = provider_json(&name, existing);
        operation(state, &name, "WorkloadIdentityPoolProvider", shown)
    })
}

fn set_provider_state(
    shared: &Shared,
    project: &str,
    pool: &str,
    id: &str,
    delete: bool,
) -> Response {
    shared.change(|state| {
        let pool_name = match pool_name(state, project, pool) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let Some(provider) = state
            .google
            .wif
            .pools
            .get_mut(&pool_name)
            .and_then(|p| p.providers.get_mut(id))
        else {
            return google_error(GoogleCode::NotFound, "Requested entity was not found.");
        };
        let name = format!("{pool_name}/providers/{id}");
        if let Err(refused) = transition(
            "Provider",
            &name,
            &mut provider.state,
            &mut provider.expire_time,
            delete,
        ) {
            return refused;
        }
        let shown = provider_json(&name, provider);
        operation(state, &name, "WorkloadIdentityPoolProvider", shown)
    })
}
