//! Rendering responses: JSON (default) or XML under a `<KMS>` root, for success and errors alike.
//!
//! Success bodies never carry `Code` (pop-core treats any `Code` as an error); error bodies always do.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use yaoshi_model::ApiError;

/// The response format asked for by the `Format` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// `Format` is case-insensitive and optional (JSON by default); unknown values fall back to JSON.
    pub(crate) fn from_param(value: Option<&str>) -> Format {
        match value {
            Some(v) if v.eq_ignore_ascii_case("xml") => Format::Xml,
            _ => Format::Json,
        }
    }
}

/// A success response: the action's fields plus `RequestId`.
pub(crate) fn success(format: Format, request_id: &str, mut body: Map<String, Value>) -> Response {
    body.insert("RequestId".into(), Value::String(request_id.to_string()));
    respond(format, StatusCode::OK, body)
}

/// An error response with the code's HTTP status.
pub(crate) fn error(format: Format, request_id: &str, host_id: &str, err: &ApiError) -> Response {
    let status = err.http_status();
    let mut body = Map::new();
    body.insert("RequestId".into(), Value::String(request_id.to_string()));
    body.insert("HostId".into(), Value::String(host_id.to_string()));
    body.insert("Code".into(), Value::String(err.code.as_str().to_string()));
    body.insert("Message".into(), Value::String(err.message.clone()));
    body.insert("HttpStatus".into(), Value::from(status));
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(format, status, body)
}

fn respond(format: Format, status: StatusCode, body: Map<String, Value>) -> Response {
    let (content_type, bytes) = match format {
        // Straight into bytes (the same compact text as `Value::to_string`, without going through
        // `fmt`); a map with string keys always serializes.
        Format::Json => {
            ("application/json;charset=utf-8", serde_json::to_vec(&body).unwrap_or_default())
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            write_xml_element(&mut out, "KMS", &Value::Object(body));
            ("text/xml;charset=utf-8", out.into_bytes())
        }
    };
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Writes `value` as element `name`; an array becomes one `name` element per item, which gives the
/// reference's `<Keys><Key>…</Key><Key>…</Key></Keys>` shape from `{"Keys":{"Key":[…]}}`.
fn write_xml_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                write_xml_element(out, name, item);
            }
        }
        Value::Object(map) => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            for (k, v) in map {
                write_xml_element(out, k, v);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::String(s) => write_text(out, name, s),
        other => write_text(out, name, &other.to_string()),
    }
}

fn write_text(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_lists_and_escaping() {
        let v: Value = serde_json::json!({"Keys": {"Key": [{"KeyId": "a"}, {"KeyId": "b&<"}]}, "TotalCount": 2});
        let mut out = String::new();
        write_xml_element(&mut out, "KMS", &v);
        assert_eq!(
            out,
            "<KMS><Keys><Key><KeyId>a</KeyId></Key><Key><KeyId>b&amp;&lt;</KeyId></Key></Keys><TotalCount>2</TotalCount></KMS>"
        );
    }

    #[test]
    fn json_body_is_the_compact_text() {
        let mut fields = Map::new();
        fields.insert("CiphertextBlob".into(), Value::String("a+/=\"\\<é".into()));
        fields.insert("KeyId".into(), Value::String("k".into()));
        let expected = {
            let mut with_id = fields.clone();
            with_id.insert("RequestId".into(), Value::String("r".into()));
            Value::Object(with_id).to_string()
        };
        let response = success(Format::Json, "r", fields);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json;charset=utf-8");
        let body = futures_body(response);
        assert_eq!(body, expected.as_bytes());
    }

    fn futures_body(response: Response) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap().to_vec()
    }

    #[test]
    fn format_is_case_insensitive() {
        assert_eq!(Format::from_param(Some("XML")), Format::Xml);
        assert_eq!(Format::from_param(Some("xml")), Format::Xml);
        assert_eq!(Format::from_param(Some("json")), Format::Json);
        assert_eq!(Format::from_param(None), Format::Json);
    }
}
