//! The baseline server: a bare axum endpoint that answers a fixed JSON body, so a figure through
//! Yaoshi's full signed path can be compared with what the HTTP stack alone does on this machine.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::any;

/// A JSON object of exactly `bytes` bytes (at least the skeleton's length): a `RequestId` and a
/// filler field, like a KMS response.
pub(crate) fn json_body(bytes: usize) -> String {
    let skeleton = r#"{"RequestId":"00000000-0000-0000-0000-000000000000","CiphertextBlob":""}"#;
    let fill = bytes.saturating_sub(skeleton.len());
    format!(
        r#"{{"RequestId":"00000000-0000-0000-0000-000000000000","CiphertextBlob":"{}"}}"#,
        "A".repeat(fill)
    )
}

/// Serves the baseline on `listen` until killed.
pub(crate) async fn serve(listen: &str, body_bytes: usize) -> anyhow::Result<()> {
    let body: &'static str = Box::leak(json_body(body_bytes).into_boxed_str());
    let app =
        Router::new().route(
            "/",
            any(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], body).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn body_has_the_requested_size_and_is_json() {
        for n in [0, 80, 200, 1000] {
            let b = super::json_body(n);
            assert_eq!(b.len(), n.max(72));
            serde_json::from_str::<serde_json::Value>(&b).unwrap();
        }
    }
}
