//! The axum router and the request pipeline: parse parameters → authenticate (`auth.rs`) →
//! look the action up in the action table (`actions/mod.rs`) → run its handler → render the
//! response. A worker forwards every action the table does not mark as data plane.
//!
//! Two routes share the pipeline: `/` speaks the Alibaba RPC protocol (RPC v1 or ACS3
//! signatures), `/v1/<group>/<action>` the CTyun EOP one (`Eop-Authorization`, a JSON body; the
//! action is the route's, `eop.rs` renders the answer).
//!
//! Alibaba responses are JSON (default) or XML under a `<KMS>` root, for success and errors
//! alike. Success bodies never carry `Code` (pop-core treats any `Code` as an error); error bodies
//! always do.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Map, Value};
use yaoshi_model::{ApiError, ErrorCode};
use yaoshi_worker::Replica;

use crate::actions::{Action, Plane};
use crate::auth::{Scheme, authenticate};
use crate::clock::Clock;
use crate::context::RequestContext;
use crate::limits::ApiLimits;
use crate::params::Params;
use crate::regions::{self, Destination};
use crate::state::ApiState;
use yaoshi_raft::claims::{NonceClaim, QuorumAnswer};

/// The API version this surface implements.
const API_VERSION: &str = "2016-01-20";

/// The HTTP router of the Alibaba RPC protocol: every request goes to `/`.
pub fn router(state: Arc<ApiState>) -> Router {
    let mut router =
        Router::new().route("/", any(handle)).route("/v1/{group}/{action}", any(handle_eop));
    if state.test_clock.is_some() {
        router = router.route("/_test/clock", post(advance_test_clock));
    }
    // The body limit is `ApiLimits::max_body_bytes`, enforced in `handle` with the API's error.
    router.fallback(not_found).layer(axum::extract::DefaultBodyLimit::disable()).with_state(state)
}

/// Test mode only: advances KMS time by `AdvanceMs` and answers the new `NowMs`.
async fn advance_test_clock(State(api): State<Arc<ApiState>>, uri: Uri) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let params = Params::parse(uri.query(), None);
    let Some(clock) = &api.test_clock else {
        return error(Format::Json, &request_id, "", &ApiError::invalid("Path"));
    };
    match params.int_in("AdvanceMs", 0, i64::MAX / 4, 0) {
        Ok(ms) => {
            let offset = clock.advance(ms);
            tracing::warn!(advance_ms = ms, offset_ms = offset, "test clock advanced");
            let mut fields = serde_json::Map::new();
            fields.insert("NowMs".into(), clock.now_ms().into());
            fields.insert("OffsetMs".into(), offset.into());
            success(Format::Json, &request_id, fields)
        }
        Err(e) => error(Format::Json, &request_id, "", &e),
    }
}

async fn not_found(State(api): State<Arc<ApiState>>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let err = ApiError::invalid("Path");
    error(Format::Json, &request_id, &host_id(&api, &HeaderMap::new()), &err)
}

fn host_id(api: &ApiState, headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("kms.{}.aliyuncs.com", api.region()))
}

fn is_form(headers: &HeaderMap, body: &[u8]) -> bool {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        Some(ct) => ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"),
        // Some clients send a form body without a content type.
        None => !body.is_empty(),
    }
}

/// Which protocol a request arrived on, and so how it is read and answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// `/`: the Alibaba RPC protocol.
    Alibaba,
    /// `/v1/<group>/<action>`: CTyun EOP.
    Eop { group: String, action: String },
}

impl Route {
    /// An error in the route's shape (JSON for the Alibaba route until `Format` is known).
    fn error(&self, format: Format, request_id: &str, host_id: &str, err: &ApiError) -> Response {
        match self {
            Route::Alibaba => error(format, request_id, host_id, err),
            Route::Eop { .. } => crate::eop::error(request_id, err),
        }
    }
}

async fn handle(State(api): State<Arc<ApiState>>, request: axum::extract::Request) -> Response {
    pipeline(api, Route::Alibaba, request).await
}

async fn handle_eop(
    State(api): State<Arc<ApiState>>,
    Path((group, action)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Response {
    pipeline(api, Route::Eop { group, action }, request).await
}

/// Limits, the body, the deadline, then `serve`.
async fn pipeline(api: Arc<ApiState>, route: Route, request: axum::extract::Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let refuse = |err: ApiError| {
        route.error(Format::Json, &request_id, &host_id(&api, &parts.headers), &err)
    };
    if let Some(err) = oversized(&api.limits, &parts) {
        return refuse(err);
    }
    // Shed rather than queue: a queue would only turn overload into timeouts.
    let Ok(_permit) = api.in_flight.try_acquire() else {
        return refuse(ApiError::new(ErrorCode::RejectedThrottling));
    };
    let deadline = tokio::time::Instant::now() + api.limits.request_timeout;
    let body = axum::body::to_bytes(body, api.limits.max_body_bytes);
    let body = match tokio::time::timeout_at(deadline, body).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            let too_large = e.into_inner().is::<http_body_util::LengthLimitError>();
            let code =
                if too_large { ErrorCode::RequestTooLarge } else { ErrorCode::MalformedRequest };
            return refuse(ApiError::new(code));
        }
        Err(_) => return refuse(ApiError::new(ErrorCode::RequestTimeout)),
    };
    let source = parts.extensions.get::<crate::context::ClientAddr>().map(|a| a.0.ip());
    let request =
        Incoming { method: parts.method, uri: &parts.uri, headers: &parts.headers, source };
    let answer = serve(&api, &route, &request_id, request, body);
    match tokio::time::timeout_at(deadline, answer).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(request_id, "request timed out");
            refuse(ApiError::new(ErrorCode::ServiceUnavailableTemporary))
        }
    }
}

/// The size-limit error of a request whose URI or headers are larger than the limits allow.
fn oversized(limits: &ApiLimits, parts: &axum::http::request::Parts) -> Option<ApiError> {
    let uri_len = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > limits.max_uri_bytes {
        return Some(ApiError::new(ErrorCode::UriTooLong));
    }
    let header_bytes: usize =
        parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if header_bytes > limits.max_header_bytes {
        return Some(ApiError::new(ErrorCode::HeadersTooLarge));
    }
    None
}

/// A request's head, and the address its connection came from.
struct Incoming<'a> {
    method: Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    source: Option<std::net::IpAddr>,
}

/// Serves a request whose body has arrived: a worker forwards what is not data plane.
async fn serve(
    api: &Arc<ApiState>,
    route: &Route,
    request_id: &str,
    request: Incoming<'_>,
    body: Bytes,
) -> Response {
    let Incoming { method, uri, headers, source } = request;
    // Only an error names the host: no allocation for it on the way to a success.
    let host = || host_id(api, headers);
    // The parameters, the response format and (EOP) the route's action.
    let (params, format, routed) = match route {
        Route::Alibaba => {
            let params = Params::parse(uri.query(), is_form(headers, &body).then_some(&body[..]));
            let format = Format::from_param(params.get("Format"));
            (params, format, None)
        }
        Route::Eop { group, action } => {
            let Some(action) = Action::from_eop(group, action) else {
                return route.error(
                    Format::Json,
                    request_id,
                    &host(),
                    &ApiError::invalid("Action"),
                );
            };
            let Ok(members) = yaoshi_sign::eop_body_params(&body) else {
                return route.error(Format::Json, request_id, &host(), &ApiError::invalid("Body"));
            };
            let query =
                uri.query().map(|q| yaoshi_sign::parse_form(q.as_bytes())).unwrap_or_default();
            (Params::from_eop(query, members), Format::Json, Some(action))
        }
    };
    let unknown_region = match regions::destination(
        api.region(),
        api.peer_regions(),
        &params,
        headers,
    ) {
        Destination::Here => false,
        Destination::Unknown => true,
        Destination::Peer(peer) => {
            // A request another region already forwarded is never forwarded again: regions
            // configured in a cycle (a peer's endpoint that is this node, or a region listed
            // at a third region's nodes) would otherwise bounce it until every hop timed out.
            if headers.contains_key(regions::FORWARDED_HEADER) {
                tracing::warn!(region = %peer.region, "a forwarded request names another region again: check the [[regions]] endpoints");
                let err = ApiError::new(ErrorCode::ServiceUnavailableTemporary);
                return route.error(format, request_id, &host(), &err);
            }
            let mut marked = headers.clone();
            marked.insert(regions::FORWARDED_HEADER, HeaderValue::from_static("1"));
            let urls: Vec<String> = peer.base_urls().collect();
            return forward(api, &urls, request_id, method, uri, &marked, body).await;
        }
    };
    if let Some(cache) = &api.worker {
        let data_plane = routed
            .or_else(|| params.get("Action").and_then(Action::from_name))
            .is_some_and(|a| a.info().plane == Plane::Data);
        // A worker knows no other regions: its node decides where those requests go.
        if !data_plane || unknown_region {
            let Some(addr) = cache.http_addr() else {
                let err = ApiError::new(ErrorCode::ServiceUnavailableTemporary);
                return error(Format::Json, request_id, "", &err);
            };
            let urls = [format!("http://{addr}")];
            return forward(api, &urls, request_id, method, uri, headers, body).await;
        }
        if !cache.fresh() {
            let err = ApiError::new(ErrorCode::ServiceUnavailableTemporary);
            return route.error(format, request_id, &host(), &err);
        }
    }
    match process(api, routed, request_id, (&method, headers, source), &params, &body).await {
        Ok(fields) => match route {
            Route::Alibaba => success(format, request_id, fields),
            Route::Eop { .. } => crate::eop::success(request_id, fields),
        },
        Err(err) => {
            if err.code == ErrorCode::InternalFailure {
                tracing::error!(request_id, "request failed with an internal error");
            } else {
                tracing::debug!(request_id, code = err.code.as_str(), "request rejected");
            }
            route.error(format, request_id, &host(), &err)
        }
    }
}

/// Hands a request unchanged (the receiver authenticates it; the Host header is kept because ACS3
/// signs it) to the first of `urls` that answers, and relays the answer: a worker's control-plane
/// requests to its node, and requests for another region to that region's nodes.
async fn forward(
    api: &ApiState,
    urls: &[String],
    request_id: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let unavailable = || {
        let err = ApiError::new(ErrorCode::ServiceUnavailableTemporary);
        error(Format::Json, request_id, "", &err)
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut answered = None;
    for url in urls {
        let mut req =
            api.forwarder.request(method.clone(), format!("{url}{path}")).body(body.clone());
        for (name, value) in headers {
            if !matches!(name.as_str(), "connection" | "content-length" | "transfer-encoding") {
                req = req.header(name, value);
            }
        }
        match req.timeout(std::time::Duration::from_secs(30)).send().await {
            Ok(answer) => {
                answered = Some(answer);
                break;
            }
            // Connection refused or timed out: the next endpoint. (An endpoint that answered
            // with an error is relayed: the request may have taken effect.)
            Err(e) => tracing::warn!(%url, error = %e, "forwarding failed"),
        }
    }
    let Some(answer) = answered else { return unavailable() };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let Ok(bytes) = answer.bytes().await else { return unavailable() };
    let mut response = Response::new(axum::body::Body::from(bytes));
    *response.status_mut() = status;
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}

/// Authenticates and runs a request. `routed` is the action an EOP route names; an Alibaba request
/// names its own (`Action`, `x-acs-action`) and its API version.
async fn process(
    api: &Arc<ApiState>,
    routed: Option<Action>,
    request_id: &str,
    (method, headers, source): (&Method, &HeaderMap, Option<std::net::IpAddr>),
    params: &Params,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::new(ErrorCode::UnsupportedHttpMethod));
    }
    let now_ms = api.clock.now_ms();
    let scheme = if routed.is_some() { Scheme::Eop } else { Scheme::Alibaba };
    let authenticate =
        || authenticate(api, scheme, method.as_str(), headers, params, body, api.clock.wall_ms());
    let auth = match authenticate() {
        // An unknown AccessKey id on a node may only mean its replica is behind (a node that is
        // catching up, e.g. rejoining after a wipe): catch up with the leader's commit, then
        // decide. A node that cannot reach a leader answers 503, never a wrong 404.
        // Made-up ids share one barrier per second (`limits.rs`), so they cannot cost a quorum
        // read each.
        Err(e) if e.code == ErrorCode::InvalidAccessKeyIdNotFound && api.node.is_some() => {
            let node = api.node()?;
            api.unknown_ids
                .confirm(async {
                    node.read_barrier().await.map_err(|e| {
                        tracing::warn!(error = %e, "cannot confirm an unknown AccessKey id");
                        ApiError::new(ErrorCode::ServiceUnavailableTemporary)
                    })
                })
                .await?;
            authenticate()?
        }
        other => other?,
    };
    if !api.rates.admit(auth.principal.as_str()) {
        return Err(ApiError::new(ErrorCode::RejectedThrottling));
    }
    let action = match routed {
        Some(action) => {
            check_region(api, params)?;
            action
        }
        None => {
            let name = auth.action.as_deref().ok_or_else(|| ApiError::missing("Action"))?;
            match auth.version.as_deref() {
                None => return Err(ApiError::missing("Version")),
                Some(API_VERSION) => {}
                Some(_) => return Err(ApiError::invalid("Version")),
            }
            check_region(api, params)?;
            Action::from_name(name).ok_or_else(|| ApiError::invalid("Action"))?
        }
    };
    let subject = crate::access::Subject {
        request_id,
        principal: auth.principal.as_str(),
        account_id: &auth.account_id,
        access_point: auth.access_point.as_deref(),
        source,
    };
    crate::access::check(api, &subject, action, params)?;
    if action.info().plane != Plane::Write {
        // Writes are refused cluster-wide in apply; everything else is claimed at the voters.
        claim_nonce(api, &auth.principal, &auth.nonce, auth.timestamp_ms).await?;
    }
    let ctx = RequestContext {
        request_id: request_id.to_string(),
        principal: auth.principal,
        account_id: auth.account_id,
        nonce: Some(auth.nonce),
        now_ms,
        audit_name: action.info().audit,
    };
    action.dispatch(api, &ctx, params).await
}

/// A `RegionId` parameter, when given, must be this node's region.
fn check_region(api: &ApiState, params: &Params) -> Result<(), ApiError> {
    match params.optional("RegionId") {
        Some(region) if region != api.region() => Err(ApiError::invalid("RegionId")),
        _ => Ok(()),
    }
}

/// Claims a read's or data-plane request's nonce at a majority of the region's voters
/// (`yaoshi_raft::claims`), so that it is refused when replayed to any other node or worker.
async fn claim_nonce(
    api: &ApiState,
    principal: &yaoshi_model::AccessKeyId,
    nonce: &str,
    timestamp_ms: i64,
) -> Result<(), ApiError> {
    let claim =
        NonceClaim { access_key_id: principal.to_string(), nonce: nonce.to_string(), timestamp_ms };
    let answer = api.quorum.claim(claim).await;
    let label = match answer {
        QuorumAnswer::Fresh => "fresh",
        QuorumAnswer::Replayed => "replayed",
        QuorumAnswer::Full => "full",
        QuorumAnswer::Unavailable => "unavailable",
    };
    metrics::counter!("yaoshi_api_nonce_claims_total", "answer" => label).increment(1);
    match answer {
        QuorumAnswer::Fresh => Ok(()),
        QuorumAnswer::Replayed => Err(ApiError::new(ErrorCode::SignatureNonceUsed)),
        QuorumAnswer::Full => Err(ApiError::new(ErrorCode::RejectedThrottling)),
        QuorumAnswer::Unavailable => {
            tracing::warn!("no majority of the voters answered a nonce claim");
            Err(ApiError::new(ErrorCode::ServiceUnavailableTemporary))
        }
    }
}

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
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(format, status, error_fields(request_id, host_id, err))
}

/// The JSON body of an error, for answers written below axum (`listener.rs`).
pub(crate) fn error_json(request_id: &str, host_id: &str, err: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&error_fields(request_id, host_id, err)).unwrap_or_default()
}

fn error_fields(request_id: &str, host_id: &str, err: &ApiError) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("RequestId".into(), Value::String(request_id.to_string()));
    body.insert("HostId".into(), Value::String(host_id.to_string()));
    body.insert("Code".into(), Value::String(err.code.as_str().to_string()));
    body.insert("Message".into(), Value::String(err.message.clone()));
    body.insert("HttpStatus".into(), Value::from(err.http_status()));
    body
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
