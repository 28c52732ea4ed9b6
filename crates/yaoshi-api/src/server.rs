//! The axum router, the shared API state, and the request pipeline.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use axum::routing::{any, post};
use yaoshi_crypto::DomainKey;
use yaoshi_model::{ApiError, ErrorCode};
use yaoshi_raft::RegionNode;

use crate::auth::{NonceCache, authenticate};
use crate::clock::{Clock, TestClock};
use crate::context::RequestContext;
use crate::params::Params;
use crate::render::{self, Format};

/// The API version this surface implements.
pub(crate) const API_VERSION: &str = "2016-01-20";

/// Everything request handlers share.
#[derive(Debug)]
pub struct ApiState {
    /// The region node (Raft group member and local replica).
    pub node: Arc<RegionNode>,
    /// The region's domain key, which wraps key material and credential secrets.
    pub domain_key: DomainKey,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// The controllable clock of test mode, `None` in production.
    pub(crate) test_clock: Option<Arc<TestClock>>,
    pub(crate) nonces: NonceCache,
}

impl ApiState {
    /// The shared state of a node's API.
    pub fn new(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        clock: Arc<dyn Clock>,
    ) -> Arc<ApiState> {
        Arc::new(ApiState {
            node,
            domain_key,
            clock,
            test_clock: None,
            nonces: NonceCache::default(),
        })
    }

    /// Test mode: the shared state with a [`TestClock`] as KMS time, and the
    /// `POST /_test/clock?AdvanceMs=N` route that moves it forward.
    pub fn with_test_clock(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        clock: Arc<TestClock>,
    ) -> Arc<ApiState> {
        Arc::new(ApiState {
            node,
            domain_key,
            clock: clock.clone(),
            test_clock: Some(clock),
            nonces: NonceCache::default(),
        })
    }

    /// The region this API serves.
    pub(crate) fn region(&self) -> &str {
        self.node.region.as_str()
    }
}

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
    let host = host_id(&api, &headers);
    match process(&api, &request_id, &method, &headers, &params, &body).await {
        Ok(fields) => render::success(format, &request_id, fields),
        Err(err) => {
            if err.code == ErrorCode::InternalFailure {
                tracing::error!(request_id, "request failed with an internal error");
            } else {
                tracing::debug!(request_id, code = err.code.as_str(), "request rejected");
            }
            render::error(format, &request_id, &host, &err)
        }
    }
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
    let auth = authenticate(api, method.as_str(), headers, params, body, api.clock.wall_ms())?;
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
    let ctx = RequestContext {
        request_id: request_id.to_string(),
        principal: auth.principal,
        account_id: auth.account_id,
        nonce: auth.nonce,
        now_ms,
    };
    crate::actions::dispatch(api, &ctx, &action, params).await
}
