//! Answers every operation can give, added to each operation once here instead of in every
//! handler's list: 400 when a body or parameter does not parse, 413 for a body over the limit,
//! 401 and 403 for operations behind an API key. An operation that lists one of these itself keeps its own description.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::Modify;

pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut OpenApi) {
        for item in doc.paths.paths.values_mut() {
            for operation in operations(item) {
                add_common(operation);
            }
        }
    }
}

/// Every operation of a path, whatever its method.
pub(super) fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add_common(operation: &mut Operation) {
    let takes_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if takes_input {
        add(
            operation,
            "400",
            "invalid_field, malformed_json, malformed_request: a body or parameter that does not fit",
        );
    }
    if operation.request_body.is_some() {
        add(
            operation,
            "413",
            "payload_too_large: the body (or the length it announces) is over the limit",
        );
    }
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    if secured {
        add(
            operation,
            "401",
            "unauthorized: no API key, or an invalid or revoked one",
        );
        add(
            operation,
            "403",
            "forbidden: the key's role may not do this",
        );
    }
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    let error_body = Content::new(Some(Ref::from_schema_name("ErrorBody")));
    let response = Response::builder()
        .description(description)
        .content("application/json", error_body)
        .build();
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert(RefOr::T(response));
}
