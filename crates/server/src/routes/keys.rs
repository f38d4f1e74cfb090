//! API keys (admin only): create (for an operator, the person it belongs to), list, revoke —
//! never the last active admin key. Who created and revoked each key is recorded.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::auth::{KeyRecord, Need, NewKey, Principal, RevokeError};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::json::ApiJson;
use crate::state::AppState;
use paycore_api::ledger::{CreateKeyRequest, KeyList, KeyResponse, WhoAmIResponse};

pub(crate) const KEY_NAME_BYTES_MAX: usize = 32;

fn response(record: KeyRecord, key: Option<String>) -> KeyResponse {
    KeyResponse {
        operator: record.operator().to_owned(),
        id: record.id,
        name: record.name,
        role: record.role,
        created_at: record.created_at,
        created_by: record.created_by,
        revoked: record.revoked,
        revoked_by: record.revoked_by,
        key,
    }
}

/// 1 to 32 bytes of printable text (the ledger's `opened_by` holds 32).
fn check_name(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > KEY_NAME_BYTES_MAX || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("field `{field}`: 1 to 32 bytes of printable text"),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKeyRequest,
    responses((status = 201, description = "the key is in `key`, shown this once", body = KeyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<KeyResponse>), ApiError> {
    principal.require(Need::Admin)?;
    let name = request.name.trim();
    check_name("name", name)?;
    let operator = request.operator.as_deref().map(str::trim);
    if let Some(operator) = operator {
        check_name("operator", operator)?;
    }
    if paycore_adjustments::same_person(
        operator.unwrap_or(name),
        paycore_adjustments::SYSTEM_OPERATOR,
    ) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "field `operator`: `system` is reserved for what paycore does by itself",
        ));
    }
    let key = NewKey {
        name,
        operator,
        role: request.role,
        created_by: Some(&principal.operator),
    };
    let (record, secret) = state
        .keys
        .create(key)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    tracing::info!(key = %record.id, name = %record.name, operator = record.operator(), role = %record.role, by = %principal.operator, "API key created");
    Ok((
        StatusCode::CREATED,
        Json(response(record, Some(secret.expose().to_owned()))),
    ))
}

#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = KeyList), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<KeyList>, ApiError> {
    principal.require(Need::Admin)?;
    Ok(Json(KeyList {
        keys: state
            .keys
            .list()
            .into_iter()
            .map(|r| response(r, None))
            .collect(),
    }))
}

#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", params(("id" = String, Path)),
    description = "Revokes a key at once. The last active (not revoked) admin key cannot be revoked: \
create another admin key first. If every admin key is lost, stop the server and run \
`paycore keys reset-admin --data-dir DIR`.",
    responses((status = 200, body = KeyResponse), (status = 403, body = ErrorBody),
        (status = 404, description = "key_not_found", body = ErrorBody),
        (status = 409, description = "last_admin_key: the key is the last active admin key", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<KeyResponse>, ApiError> {
    principal.require(Need::Admin)?;
    let record = state.keys.revoke(&id, &principal.operator).map_err(|error| {
        if let RevokeError::LastAdminKey(_) = error {
            tracing::warn!(key = %id, by = %principal.key_id, "refused to revoke the last active admin key");
        }
        revoke_error(error)
    })?;
    tracing::info!(key = %record.id, by = %principal.operator, by_key = %principal.key_id, "API key revoked");
    Ok(Json(response(record, None)))
}

fn revoke_error(error: RevokeError) -> ApiError {
    let message = error.to_string();
    match error {
        RevokeError::NotFound(_) => ApiError::not_found("key_not_found", message),
        RevokeError::LastAdminKey(_) => {
            ApiError::new(StatusCode::CONFLICT, "last_admin_key", message)
        }
        RevokeError::Store(_) => ApiError::internal(message),
    }
}

/// Any valid key: who it belongs to and its role (the console offers only what the role may do).
#[utoipa::path(get, path = "/v1/whoami", tag = "keys",
    responses((status = 200, body = WhoAmIResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn whoami(principal: Principal) -> Json<WhoAmIResponse> {
    Json(WhoAmIResponse {
        key_id: principal.key_id,
        name: principal.name,
        operator: principal.operator,
        role: principal.role,
    })
}
