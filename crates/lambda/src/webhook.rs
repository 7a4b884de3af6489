//! The invocation's one alert → a webhook (Slack, a Teams workflow, a
//! receiver of your own), beside SNS. The URL carries its own credential,
//! so it is a Secrets Manager secret ([`crate::config::ALERT_WEBHOOK_SECRET`]):
//! kept across invocations, read again when the receiver refuses it (it
//! was rotated), and never logged: logs name the host only.

use crate::config::ALERT_WEBHOOK_SECRET;
use crate::state::Shared;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Tries per delivery, for throttling, server errors and lost connections.
const ATTEMPTS: u32 = 3;
const BACKOFF: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_secs(10);
/// Slack shows about this much of `text` before "show more"; the whole
/// alert is in `body`.
const TEXT_MAX: usize = 3000;

/// Where alerts are posted, as the secret holds it: a bare URL, or
/// `{"url": "…", "headers": {"Authorization": "…"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    uri: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Hook {
    /// Errors never repeat the secret: they say what is wrong, not what it is.
    pub fn parse(secret: &str) -> Result<Self, String> {
        let secret = secret.trim();
        let (url, headers) = if secret.starts_with('{') {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Shape {
                url: String,
                #[serde(default)]
                headers: BTreeMap<String, String>,
            }
            let shape: Shape = serde_json::from_str(secret).map_err(|e| {
                format!(
                    "the secret is JSON but not {{\"url\", \"headers\"}} (line {}, column {})",
                    e.line(),
                    e.column()
                )
            })?;
            (shape.url, shape.headers)
        } else {
            (secret.to_string(), BTreeMap::new())
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| "the secret's url is not a URL".to_string())?;
        let host = uri.host().unwrap_or_default();
        match uri.scheme_str() {
            Some("https") => {}
            // A receiver on this host (a test's, a sidecar's) needs no TLS.
            Some("http") if is_loopback(host) => {}
            _ => return Err("the secret's url must be https".into()),
        }
        if host.is_empty() {
            return Err("the secret's url has no host".into());
        }
        let headers = headers
            .into_iter()
            .map(|(k, v)| {
                let name = HeaderName::try_from(k.as_str())
                    .map_err(|_| format!("header `{k}` is not a header name"))?;
                let mut value = HeaderValue::try_from(v)
                    .map_err(|_| format!("header `{k}`: its value is not a header value"))?;
                value.set_sensitive(true);
                Ok((name, value))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { uri, headers })
    }

    pub fn host(&self) -> &str {
        self.uri.host().unwrap_or_default()
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Slack's incoming webhooks read `text`; other receivers get the parts.
pub fn payload(environment: &str, subject: &str, body: &str) -> Value {
    let mut text = format!("*{subject}*\n{body}");
    if text.len() > TEXT_MAX {
        let cut = (0..=TEXT_MAX - 40)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("\n… (the whole alert is in `body`)");
    }
    json!({
        "text": text,
        "environment": environment,
        "subject": subject,
        "body": body,
        "source": "tagwarden",
    })
}

/// How one delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Delivered,
    /// The receiver does not know this URL or credential (any more).
    Refused(StatusCode),
    /// Anything else, after the retries it deserves.
    Failed(String),
}

pub fn client() -> Result<HttpClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no trusted roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(hyper_util::rt::TokioExecutor::new()).build(https))
}

/// Posts `body`, backing off with jitter on throttling, server errors and
/// broken connections.
pub async fn post(client: &HttpClient, hook: &Hook, body: &Bytes) -> Sent {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let why = match once(client, hook, body).await {
            Ok(s) if s.is_success() => return Sent::Delivered,
            Ok(
                s @ (StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::NOT_FOUND
                | StatusCode::GONE),
            ) => return Sent::Refused(s),
            Ok(s) if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                format!("HTTP {s}")
            }
            Ok(s) => return Sent::Failed(format!("HTTP {s}")),
            Err(e) => e,
        };
        if attempt == ATTEMPTS {
            return Sent::Failed(format!("{why}, {ATTEMPTS} tries"));
        }
        // Full jitter: anywhere up to the exponential step.
        let step = BACKOFF * 2u32.pow(attempt - 1);
        tokio::time::sleep(step.mul_f64(fastrand::f64())).await;
    }
}

async fn once(client: &HttpClient, hook: &Hook, body: &Bytes) -> Result<StatusCode, String> {
    let mut req = Request::post(hook.uri.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(body.clone()))
        .map_err(|e| format!("request: {e}"))?;
    req.headers_mut().extend(hook.headers.iter().cloned());
    let sent = async {
        let resp = client.request(req).await.map_err(|e| {
            // The error's chain may hold the URL; its kind is enough.
            match e.is_connect() {
                true => "could not connect".to_string(),
                false => "the connection broke".to_string(),
            }
        })?;
        let status = resp.status();
        // Read to the end so that the connection is reused.
        let _ = resp.into_body().collect().await;
        Ok(status)
    };
    tokio::time::timeout(TIMEOUT, sent)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", TIMEOUT.as_secs())))
}

/// Delivers the alert to the secret's webhook. A refusal reads the secret
/// again once (it may have been rotated); nothing here fails the
/// invocation, since SNS has the same alert and the store the facts.
pub async fn deliver(shared: &Shared, secret_id: &str, payload: &Value) {
    let body = Bytes::from(payload.to_string());
    let mut refused: Option<std::sync::Arc<str>> = None;
    loop {
        let secret = match shared.secret(secret_id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "webhook alert not sent");
                return;
            }
        };
        if refused.as_ref() == Some(&secret) {
            tracing::error!(
                variable = ALERT_WEBHOOK_SECRET,
                "webhook alert not sent: the receiver refused the secret's url, and the secret is unchanged"
            );
            return;
        }
        let hook = match Hook::parse(&secret) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(variable = ALERT_WEBHOOK_SECRET, error = %e, "webhook alert not sent");
                return;
            }
        };
        let http = match shared.http() {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "webhook alert not sent");
                return;
            }
        };
        match post(http, &hook, &body).await {
            Sent::Delivered => {
                tracing::info!(host = hook.host(), "alert sent to the webhook");
                return;
            }
            Sent::Refused(status) if refused.is_none() => {
                tracing::warn!(
                    host = hook.host(),
                    status = status.as_u16(),
                    "the webhook refused its url: reading the secret again"
                );
                shared.forget_secret(secret_id);
                refused = Some(secret);
            }
            Sent::Refused(status) => {
                tracing::error!(
                    host = hook.host(),
                    status = status.as_u16(),
                    "webhook alert not sent: refused"
                );
                return;
            }
            Sent::Failed(why) => {
                tracing::error!(host = hook.host(), error = %why, "webhook alert not sent");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_a_url_or_a_url_with_headers() {
        let h = Hook::parse("https://hooks.slack.com/services/T0/B0/XYZ\n").unwrap();
        assert_eq!(h.host(), "hooks.slack.com");
        assert!(h.headers.is_empty());
        let h = Hook::parse(
            r#"{"url": "https://events.example.com/v2", "headers": {"Authorization": "Token abc"}}"#,
        )
        .unwrap();
        assert_eq!(h.headers.len(), 1);
        assert!(h.headers[0].1.is_sensitive());
        assert!(Hook::parse("http://127.0.0.1:9/hook").is_ok());
        assert!(Hook::parse("http://[::1]:9/hook").is_ok());
    }

    #[test]
    fn a_bad_secret_is_refused_without_repeating_it() {
        for (secret, says) in [
            ("http://hooks.example.com/T0/SECRET", "must be https"),
            ("ftp://example.com/SECRET", "must be https"),
            ("SECRET not a url", "not a URL"),
            (r#"{"link": "https://x/SECRET"}"#, "not {\"url\""),
            (
                r#"{"url": "https://x/SECRET", "headers": {"bad name": "v"}}"#,
                "not a header name",
            ),
        ] {
            let e = Hook::parse(secret).unwrap_err();
            assert!(e.contains(says), "{secret}: {e}");
            assert!(!e.contains("SECRET"), "{e}");
        }
    }

    #[test]
    fn the_payload_is_slack_text_and_the_parts() {
        let p = payload("prod", "[prod] 2 of 9 resources", "Resource: arn:a\n");
        assert_eq!(p["text"], "*[prod] 2 of 9 resources*\nResource: arn:a\n");
        assert_eq!(p["environment"], "prod");
        assert_eq!(p["body"], "Resource: arn:a\n");
        let long = "é".repeat(5000);
        let p = payload("prod", "s", &long);
        let text = p["text"].as_str().unwrap();
        assert!(text.len() <= TEXT_MAX, "{}", text.len());
        assert!(text.ends_with("in `body`)"));
        assert_eq!(p["body"], long.as_str());
    }
}
