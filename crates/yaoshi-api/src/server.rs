//! The axum router and the request pipeline: parse parameters → authenticate (`auth.rs`) →
//! look the action up in the action table (`actions/mod.rs`) → run its handler → render
//! (`render.rs`). A worker forwards every action the table does not mark as data plane.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use axum::routing::{any, post};
use yaoshi_model::{ApiError, ErrorCode};
use yaoshi_worker::{KeyCache, Replica};

use crate::actions::{Action, Plane};
use crate::auth::authenticate;
use crate::clock::Clock;
use crate::context::RequestContext;
use crate::params::Params;
use crate::render::{self, Format};
use crate::state::ApiState;

/// The API version this surface implements.
const API_VERSION: &str = "2016-01-20";

/// The HTTP router of the Alibaba RPC protocol: every request goes to `/`.
pub fn router(state: Arc<ApiState>) -> Router {
    let mut router = Router::new().route("/", any(handle));
    if state.test_clock.is_some() {
        router = router.route("/_test/clock", post(advance_test_clock));
    }
    router.fallback(not_found).with_state(state)
}

/// Test mode only: advances KMS time by `AdvanceMs` and answers the new `NowMs`.
async fn advance_test_clock(State(api): State<Arc<ApiState>>, uri: Uri) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let params = Params::parse(uri.query(), None);
    let Some(clock) = &api.test_clock else {
        return render::error(Format::Json, &request_id, "", &ApiError::invalid("Path"));
    };
    match params.int_in("AdvanceMs", 0, i64::MAX / 4, 0) {
        Ok(ms) => {
            let offset = clock.advance(ms);
            tracing::warn!(advance_ms = ms, offset_ms = offset, "test clock advanced");
            let mut fields = serde_json::Map::new();
            fields.insert("NowMs".into(), clock.now_ms().into());
            fields.insert("OffsetMs".into(), offset.into());
            render::success(Format::Json, &request_id, fields)
        }
        Err(e) => render::error(Format::Json, &request_id, "", &e),
    }
}

async fn not_found(State(api): State<Arc<ApiState>>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let err = ApiError::invalid("Path");
    render::error(Format::Json, &request_id, &host_id(&api, &HeaderMap::new()), &err)
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

async fn handle(
    State(api): State<Arc<ApiState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let params = Params::parse(uri.query(), is_form(&headers, &body).then_some(&body[..]));
    let format = Format::from_param(params.get("Format"));
    if let Some(cache) = &api.worker {
        let data_plane = params
            .get("Action")
            .and_then(Action::from_name)
            .is_some_and(|a| a.info().plane == Plane::Data);
        if !data_plane {
            return forward(&api, cache, &request_id, method, &uri, &headers, body).await;
        }
        if !cache.fresh() {
            let err = ApiError::new(ErrorCode::ServiceUnavailableTemporary);
            return render::error(format, &request_id, &host_id(&api, &headers), &err);
        }
    }
    match process(&api, &request_id, &method, &headers, &params, &body).await {
        Ok(fields) => render::success(format, &request_id, fields),
        Err(err) => {
            if err.code == ErrorCode::InternalFailure {
                tracing::error!(request_id, "request failed with an internal error");
            } else {
                tracing::debug!(request_id, code = err.code.as_str(), "request rejected");
            }
            render::error(format, &request_id, &host_id(&api, &headers), &err)
        }
    }
}

/// A worker hands a control-plane request to its node unchanged (the node authenticates it; the
/// Host header is kept because ACS3 signs it) and relays the answer.
async fn forward(
    api: &ApiState,
    cache: &KeyCache,
    request_id: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let unavailable = || {
        let err = ApiError::new(ErrorCode::ServiceUnavailableTemporary);
        render::error(Format::Json, request_id, "", &err)
    };
    let Some(addr) = cache.http_addr() else { return unavailable() };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = api.forwarder.request(method, format!("http://{addr}{path}")).body(body);
    for (name, value) in headers {
        if !matches!(name.as_str(), "connection" | "content-length" | "transfer-encoding") {
            req = req.header(name, value);
        }
    }
    let answer = match req.timeout(std::time::Duration::from_secs(30)).send().await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(error = %e, "forwarding to the node failed");
            return unavailable();
        }
    };
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

async fn process(
    api: &Arc<ApiState>,
    request_id: &str,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::new(ErrorCode::UnsupportedHttpMethod));
    }
    let now_ms = api.clock.now_ms();
    let auth = match authenticate(api, method.as_str(), headers, params, body, api.clock.wall_ms())
    {
        // An unknown AccessKey id on a node may only mean its replica is behind (a node that is
        // catching up, e.g. rejoining after a wipe): catch up with the leader's commit, then
        // decide. A node that cannot reach a leader answers 503, never a wrong 404.
        Err(e) if e.code == ErrorCode::InvalidAccessKeyIdNotFound && api.node.is_some() => {
            api.node()?.read_barrier().await.map_err(|e| {
                tracing::warn!(error = %e, "cannot confirm an unknown AccessKey id");
                ApiError::new(ErrorCode::ServiceUnavailableTemporary)
            })?;
            authenticate(api, method.as_str(), headers, params, body, api.clock.wall_ms())?
        }
        other => other?,
    };
    let action = auth.action.ok_or_else(|| ApiError::missing("Action"))?;
    match auth.version.as_deref() {
        None => return Err(ApiError::missing("Version")),
        Some(API_VERSION) => {}
        Some(_) => return Err(ApiError::invalid("Version")),
    }
    if let Some(region) = params.optional("RegionId")
        && region != api.region()
    {
        return Err(ApiError::invalid("RegionId"));
    }
    let action = Action::from_name(&action).ok_or_else(|| ApiError::invalid("Action"))?;
    let ctx = RequestContext {
        request_id: request_id.to_string(),
        principal: auth.principal,
        account_id: auth.account_id,
        nonce: auth.nonce,
        now_ms,
        audit_name: action.info().audit,
    };
    action.dispatch(api, &ctx, params).await
}
