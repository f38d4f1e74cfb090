//! API keys (admin only): create, list, revoke — never the last active admin key.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use crate::auth::{KeyRecord, Need, Principal, RevokeError};
use crate::error::{ApiError, ErrorBody};
use crate::json::ApiJson;
use crate::model::{CreateKeyRequest, KeyList, KeyResponse};
use crate::state::AppState;

const KEY_NAME_BYTES_MAX: usize = 32;

fn response(record: KeyRecord, key: Option<String>) -> KeyResponse {
    KeyResponse {
        id: record.id,
        name: record.name,
        role: record.role,
        created_at: record.created_at,
        revoked: record.revoked,
        key,
    }
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
    if name.is_empty() || name.len() > KEY_NAME_BYTES_MAX || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "field `name`: 1 to 32 bytes of printable text",
        ));
    }
    let (record, secret) = state
        .keys
        .create(name, request.role)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    tracing::info!(key = %record.id, name = %record.name, role = %record.role, by = %principal.key_id, "API key created");
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
    let record = state.keys.revoke(&id).map_err(|error| {
        if let RevokeError::LastAdminKey(_) = error {
            tracing::warn!(key = %id, by = %principal.key_id, "refused to revoke the last active admin key");
        }
        revoke_error(error)
    })?;
    tracing::info!(key = %record.id, by = %principal.key_id, "API key revoked");
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
