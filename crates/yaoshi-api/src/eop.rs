//! Answers on the CTyun EOP routes (`/v1/<group>/<action>`, docs/API.md "CTyun EOP surface"):
//! `{"statusCode", "message", "error", "returnObj"}`, with `statusCode` 800 on success and 900 on
//! error, `error` the API's error code (the one table, `yaoshi_model::ErrorCode`) and the HTTP
//! status that code has on the Alibaba route. `returnObj` holds the action's fields, named in
//! lowerCamelCase at every depth, plus `requestId`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use yaoshi_model::ApiError;

/// `statusCode` of a success.
pub(crate) const SUCCESS: u16 = 800;
/// `statusCode` of an error.
pub(crate) const FAILURE: u16 = 900;

/// A success: the action's fields in `returnObj`.
pub(crate) fn success(request_id: &str, mut fields: Map<String, Value>) -> Response {
    fields.insert("RequestId".into(), Value::String(request_id.to_string()));
    let body = envelope(SUCCESS, "success", "", Value::Object(fields));
    respond(StatusCode::OK, &body)
}

/// An error: its code in `error`, its message in `message`, the request id in `returnObj`.
pub(crate) fn error(request_id: &str, err: &ApiError) -> Response {
    let mut ids = Map::new();
    ids.insert("RequestId".into(), Value::String(request_id.to_string()));
    let body = envelope(FAILURE, &err.message, err.code.as_str(), Value::Object(ids));
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(status, &body)
}

fn envelope(status_code: u16, message: &str, error: &str, return_obj: Value) -> Value {
    let mut body = Map::new();
    body.insert("statusCode".into(), Value::from(status_code));
    body.insert("message".into(), Value::String(message.to_string()));
    body.insert("error".into(), Value::String(error.to_string()));
    body.insert("returnObj".into(), lower_camel(return_obj));
    Value::Object(body)
}

/// `value` with every object member renamed to lowerCamelCase (`KeyMetadata` → `keyMetadata`).
fn lower_camel(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(name, v)| (yaoshi_sign::eop_name(&name), lower_camel(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_camel).collect()),
        other => other,
    }
}

fn respond(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaoshi_model::ErrorCode;

    fn body(response: Response) -> (StatusCode, Value) {
        let status = response.status();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[test]
    fn success_renames_at_every_depth() {
        let fields = serde_json::json!({"KeyMetadata": {"KeyId": "k", "KeyState": "Enabled"},
            "Tags": {"Tag": [{"TagKey": "a", "TagValue": "b"}]}});
        let Value::Object(fields) = fields else { unreachable!() };
        let (status, v) = body(success("r1", fields));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            v,
            serde_json::json!({"statusCode": 800, "message": "success", "error": "",
                "returnObj": {"keyMetadata": {"keyId": "k", "keyState": "Enabled"},
                    "tags": {"tag": [{"tagKey": "a", "tagValue": "b"}]}, "requestId": "r1"}})
        );
    }

    #[test]
    fn error_carries_the_code_and_its_status() {
        let (status, v) = body(error("r2", &ApiError::new(ErrorCode::KeyNotFound)));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(v["statusCode"], 900);
        assert_eq!(v["error"], "Forbidden.KeyNotFound");
        assert_eq!(v["message"], ErrorCode::KeyNotFound.message_template());
        assert_eq!(v["returnObj"], serde_json::json!({"requestId": "r2"}));
    }
}
