//! A signing client of the Alibaba KMS RPC protocol (RPC v1, HMAC-SHA1), as the classic SDK signs,
//! and of ACS3-HMAC-SHA256, as the Tea SDK signs.
//!
//! Tests use [`Client::call`] for normal requests and [`Client::send_params`] with
//! [`Client::signed_params`] to craft bad ones (stale timestamps, reused nonces, wrong signatures);
//! [`Client::acs3_headers`] and [`Client::send_acs3`] do the same for ACS3; [`Client::eop`] calls
//! the CTyun EOP surface (`POST /v1/<group>/<action>`, `Eop-Authorization`).

use std::time::Duration;

/// A response: HTTP status and JSON body.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The parsed JSON body (`Null` if it was not JSON).
    pub body: serde_json::Value,
}

impl Response {
    /// The error `Code`, if the body has one.
    pub fn code(&self) -> Option<&str> {
        self.body.get("Code").and_then(|c| c.as_str())
    }

    /// A string field of the body.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.body.get(field).and_then(|c| c.as_str())
    }
}

/// A client bound to one endpoint and credential.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `http` or `https`.
    scheme: &'static str,
    endpoint: String,
    access_key_id: String,
    access_key_secret: String,
}

/// Formats Unix seconds as the `Timestamp` parameter.
pub fn timestamp_at(unix_seconds: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

/// The current time as the `Timestamp` parameter.
pub fn timestamp_now() -> String {
    timestamp_at(time::OffsetDateTime::now_utc().unix_timestamp())
}

impl Client {
    /// A client for `endpoint` (`host:port`, plain http).
    pub fn new(endpoint: &str, access_key_id: &str, access_key_secret: &str) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Client {
            http,
            scheme: "http",
            endpoint: endpoint.trim_start_matches("http://").to_string(),
            access_key_id: access_key_id.to_string(),
            access_key_secret: access_key_secret.to_string(),
        }
    }

    /// A client for `endpoint` (`host:port`) over HTTPS, trusting only the CA certificate
    /// `ca_der` (DER); the server's certificate must name the endpoint's host.
    ///
    /// # Errors
    ///
    /// Fails when the certificate does not parse.
    pub fn https(
        endpoint: &str,
        access_key_id: &str,
        access_key_secret: &str,
        ca_der: &[u8],
    ) -> Result<Client, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_der(ca_der)?)
            .build()?;
        Ok(Client {
            http,
            scheme: "https",
            endpoint: endpoint.trim_start_matches("https://").to_string(),
            access_key_id: access_key_id.to_string(),
            access_key_secret: access_key_secret.to_string(),
        })
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The common and action parameters of a request, signed for `method`.
    pub fn signed_params(
        &self,
        method: &str,
        action: &str,
        params: &[(&str, &str)],
        timestamp: &str,
        nonce: &str,
    ) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), "2016-01-20".into()),
            ("Format".into(), "JSON".into()),
            ("AccessKeyId".into(), self.access_key_id.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), nonce.into()),
            ("Timestamp".into(), timestamp.into()),
        ];
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let sts = yaoshi_sign::rpc_v1_string_to_sign(method, &pairs);
        let signature = yaoshi_sign::rpc_v1_signature(&self.access_key_secret, &sts);
        pairs.push(("Signature".into(), signature));
        pairs
    }

    /// Sends already built parameters in the query string of a POST.
    ///
    /// # Errors
    ///
    /// Fails on a transport error.
    pub async fn send_params(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Response, reqwest::Error> {
        let query: String = form_encode(pairs);
        let url = format!("{}://{}/?{query}", self.scheme, self.endpoint);
        let resp = self.http.post(url).send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok(Response {
            status,
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        })
    }

    /// Calls `action` with a fresh nonce and the current time.
    ///
    /// # Errors
    ///
    /// Fails on a transport error (API errors are returned as responses).
    pub async fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Response, reqwest::Error> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let pairs = self.signed_params("POST", action, params, &timestamp_now(), &nonce);
        self.send_params(&pairs).await
    }
}

impl Client {
    /// The headers the Tea SDK signs for `action` with an empty body: `host`, `x-acs-action`,
    /// `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce` and `x-acs-content-sha256`.
    pub fn acs3_headers(
        &self,
        action: &str,
        nonce: &str,
        timestamp: &str,
    ) -> Vec<(String, String)> {
        vec![
            ("host".into(), self.endpoint.clone()),
            ("x-acs-action".into(), action.into()),
            ("x-acs-version".into(), "2016-01-20".into()),
            ("x-acs-date".into(), timestamp.into()),
            ("x-acs-signature-nonce".into(), nonce.into()),
            ("x-acs-content-sha256".into(), yaoshi_sign::sha256_hex(b"")),
        ]
    }

    /// POSTs an ACS3 request with an empty body: `signed` headers are covered by the
    /// `Authorization` header, `unsigned` ones are sent beside them without being signed.
    ///
    /// # Errors
    ///
    /// Fails on a transport error.
    pub async fn send_acs3(
        &self,
        query: &[(&str, &str)],
        signed: &[(String, String)],
        unsigned: &[(String, String)],
    ) -> Result<Response, reqwest::Error> {
        let query: Vec<(String, String)> =
            query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let authorization = yaoshi_sign::acs3_authorization(
            &self.access_key_id,
            &self.access_key_secret,
            "POST",
            "/",
            &query,
            signed,
            b"",
        );
        let url = format!("{}://{}/?{}", self.scheme, self.endpoint, form_encode(&query));
        let mut req = self.http.post(url).header("authorization", authorization);
        for (k, v) in signed.iter().chain(unsigned) {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok(Response {
            status,
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        })
    }
}

fn form_encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!("{}={}", yaoshi_sign::percent_encode(k), yaoshi_sign::percent_encode(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    /// POSTs `body` (a JSON object) to the CTyun EOP route `/v1/<group>/<action>`, signed as the
    /// CTyun page signs. The response body is CTyun's envelope (`statusCode`, `error`, `returnObj`).
    ///
    /// # Errors
    ///
    /// Fails on a transport error.
    pub async fn eop(
        &self,
        group: &str,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<Response, reqwest::Error> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let request_id = uuid::Uuid::new_v4().to_string();
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let date = time::OffsetDateTime::now_utc().format(&fmt).unwrap_or_default();
        let authorization = yaoshi_sign::eop_authorization(
            &self.access_key_id,
            &self.access_key_secret,
            &request_id,
            &date,
            &[],
            &bytes,
        );
        let url = format!("{}://{}/v1/{group}/{action}", self.scheme, self.endpoint);
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("ctyun-eop-request-id", request_id)
            .header("eop-date", date)
            .header("eop-authorization", authorization)
            .body(bytes)
            .send()
            .await?;
        let status = answer.status().as_u16();
        let text = answer.bytes().await?;
        Ok(Response {
            status,
            body: serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null),
        })
    }
}
