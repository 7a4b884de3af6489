//! A run's one alert → a webhook (Slack, or a receiver of your own),
//! beside SNS. The URL carries its own credential, so it is a Secrets
//! Manager secret: kept across runs ([`crate::secrets`]), read again when
//! the receiver refuses it (it was rotated), and never logged: logs name
//! the host only.

use crate::apply::Backoff;
use crate::clients::Clients;
use crate::secrets::Secrets;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Slack shows about this much of `text` before "show more"; the whole
/// alert is in `body`.
const TEXT_MAX: usize = 3000;
/// The longest `Retry-After` waited for.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(10);
/// Headers the request itself sets, or that would break it.
const OWN_HEADERS: &[HeaderName] = &[
    header::HOST,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::TRANSFER_ENCODING,
    header::CONNECTION,
    header::UPGRADE,
    header::TE,
];

/// Where alerts are posted, as the secret holds it: a bare URL, or
/// `{"url": "…", "headers": {"Authorization": "…"}}`.
#[derive(Clone, PartialEq)]
pub struct Hook {
    uri: Uri,
    headers: HeaderMap,
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook")
            .field("host", &self.host())
            .field("headers", &self.headers.len())
            .finish()
    }
}

impl Hook {
    /// Errors never repeat the secret: they say what is wrong, not what it
    /// is (a header is named by its place, in case name and value swapped).
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
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(
                "the secret's url holds a user and password: give them as an Authorization header"
                    .into(),
            );
        }
        let mut map = HeaderMap::new();
        for (n, (k, v)) in headers.into_iter().enumerate() {
            let place = n + 1;
            let name = HeaderName::try_from(k.as_str())
                .map_err(|_| format!("header {place}: its name is not a header name"))?;
            if OWN_HEADERS.contains(&name) {
                return Err(format!(
                    "header {place}: `{name}` is set by the request itself"
                ));
            }
            let mut value = HeaderValue::try_from(v)
                .map_err(|_| format!("header {place}: its value is not a header value"))?;
            value.set_sensitive(true);
            map.insert(name, value);
        }
        Ok(Self { uri, headers: map })
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

/// Slack's incoming webhooks read `text`: its control characters escaped,
/// so that a tag value cannot ping a channel or hide a link, and its
/// formatting characters (`*`, `_`, `~`, backtick) followed by a zero-width
/// space, as Slack has no escape for them, so that a value cannot restyle
/// the alert. Other receivers get the parts as they are.
pub fn payload(environment: &str, subject: &str, body: &str) -> Value {
    let escape = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '*' | '_' | '~' | '`' => {
                    out.push(c);
                    out.push('\u{200B}');
                }
                c => out.push(c),
            }
        }
        out
    };
    let mut text = format!("*{}*\n{}", escape(subject), escape(body));
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
    /// Anything else, after the tries it deserves.
    Failed(String),
}

/// How hard one delivery tries.
#[derive(Debug, Clone, Copy)]
pub struct Tries {
    pub backoff: Backoff,
    /// For one request, connection and TLS included.
    pub timeout: Duration,
    /// For the whole delivery, waits included.
    pub budget: Duration,
}

impl Default for Tries {
    fn default() -> Self {
        Self {
            backoff: Backoff {
                retries: 2,
                base: Duration::from_millis(500),
                cap: Duration::from_secs(4),
            },
            timeout: Duration::from_secs(5),
            budget: Duration::from_secs(20),
        }
    }
}

/// No pooled connections: one alert per invocation, and a connection kept
/// across a frozen execution environment is often dead when it thaws.
pub fn client() -> Result<HttpClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no trusted roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(https))
}

/// Why a request got no answer; `retry` when trying again may help (a TLS
/// failure will not).
struct Unanswered {
    why: String,
    retry: bool,
}

/// Posts `body`, backing off with jitter (or as `Retry-After` says) on
/// throttling, server errors and lost connections, within the budget.
/// A request whose answer was lost may have been delivered: a retry can
/// then post the alert twice, which beats not at all.
pub async fn post(client: &HttpClient, hook: &Hook, body: &Bytes, tries: &Tries) -> Sent {
    let until = Instant::now() + tries.budget;
    let mut attempt = 0;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let outcome = tokio::time::timeout(tries.timeout.min(left), once(client, hook, body))
            .await
            .unwrap_or_else(|_| {
                Err(Unanswered {
                    why: format!(
                        "no answer within {} ms",
                        tries.timeout.min(left).as_millis()
                    ),
                    retry: true,
                })
            });
        let (why, wait) = match outcome {
            Ok((s, _)) if s.is_success() => return Sent::Delivered,
            Ok((
                s @ (StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::NOT_FOUND
                | StatusCode::GONE),
                _,
            )) => return Sent::Refused(s),
            Ok((s, retry_after)) if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => (
                format!("HTTP {}", s.as_u16()),
                retry_after.unwrap_or_else(|| tries.backoff.delay(attempt)),
            ),
            Ok((s, _)) => return Sent::Failed(format!("HTTP {}", s.as_u16())),
            Err(Unanswered { why, retry: false }) => return Sent::Failed(why),
            Err(Unanswered { why, retry: true }) => (why, tries.backoff.delay(attempt)),
        };
        attempt += 1;
        let tried = format!("{why} ({attempt} tries)");
        if attempt > tries.backoff.retries {
            return Sent::Failed(tried);
        }
        if Instant::now() + wait >= until {
            return Sent::Failed(format!("{tried}, out of time"));
        }
        tokio::time::sleep(wait).await;
    }
}

async fn once(
    client: &HttpClient,
    hook: &Hook,
    body: &Bytes,
) -> Result<(StatusCode, Option<Duration>), Unanswered> {
    let mut req = Request::post(hook.uri.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.clone()))
        .map_err(|e| Unanswered {
            why: format!("request: {e}"),
            retry: false,
        })?;
    for (k, v) in &hook.headers {
        req.headers_mut().insert(k, v.clone());
    }
    let resp = client.request(req).await.map_err(|e| unanswered(&e))?;
    let retry_after = resp
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(RETRY_AFTER_MAX));
    Ok((resp.status(), retry_after))
}

/// The cause, from the error's chain: its I/O kind or TLS failure, which
/// name no URL (the errors' own messages may).
fn unanswered(e: &(dyn std::error::Error + 'static)) -> Unanswered {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return Unanswered {
                why: format!("TLS: {tls}"),
                retry: false,
            };
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return Unanswered {
                    why: format!("TLS: {tls}"),
                    retry: false,
                };
            }
            return Unanswered {
                why: format!("connection: {}", io.kind()),
                retry: true,
            };
        }
        cause = c.source();
    }
    Unanswered {
        why: "the connection failed".into(),
        retry: true,
    }
}

/// The webhook sink: the secret it is configured by (`variable` names that
/// setting in logs), its kept value, and the HTTP client, made on first use.
pub struct Webhook {
    pub secret_id: String,
    variable: &'static str,
    secrets: Secrets,
    /// Or why there is none (no trusted roots).
    http: OnceLock<Result<HttpClient, String>>,
}

impl Webhook {
    pub fn new(secret_id: String, variable: &'static str) -> Self {
        Self {
            secret_id,
            variable,
            secrets: Secrets::default(),
            http: OnceLock::new(),
        }
    }

    fn http(&self) -> Result<&HttpClient, &str> {
        self.http
            .get_or_init(client)
            .as_ref()
            .map_err(String::as_str)
    }

    /// Delivers the alert within `budget`. A refusal reads the secret again
    /// once (it may have been rotated); a value refused twice rests for
    /// [`crate::secrets::REFUSED_FOR`]. Nothing here fails the run: SNS has
    /// the same alert, the store the facts.
    pub async fn deliver(&self, clients: &Clients, payload: &Value, budget: Duration) {
        let (secret_id, variable) = (self.secret_id.as_str(), self.variable);
        let body = Bytes::from(payload.to_string());
        let until = Instant::now() + budget;
        let mut refused: Option<Arc<str>> = None;
        loop {
            let read = self.secrets.value(clients, secret_id).await;
            let secret = match read {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(variable, secret = secret_id, error = %e, "webhook alert not sent");
                    return;
                }
            };
            if refused.as_ref() == Some(&secret) {
                self.secrets.refuse(secret_id, &secret, Instant::now());
                tracing::error!(
                variable,
                "webhook alert not sent: the receiver refused the secret's url, and the secret is unchanged"
            );
                return;
            }
            if self.secrets.refused(secret_id, &secret, Instant::now()) {
                tracing::error!(
                variable,
                "webhook alert not sent: the receiver refused the secret's url lately, and the secret is unchanged"
            );
                return;
            }
            let hook = match Hook::parse(&secret) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(variable, error = %e, "webhook alert not sent");
                    return;
                }
            };
            let http = match self.http() {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(error = %e, "webhook alert not sent");
                    return;
                }
            };
            // One budget for both rounds (before and after a re-read).
            let tries = Tries {
                budget: until.saturating_duration_since(Instant::now()),
                ..Tries::default()
            };
            match post(http, &hook, &body, &tries).await {
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
                    self.secrets.forget(secret_id);
                    refused = Some(secret);
                }
                Sent::Refused(status) => {
                    self.secrets.refuse(secret_id, &secret, Instant::now());
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

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
        assert!(h.headers["authorization"].is_sensitive());
        assert!(Hook::parse("http://127.0.0.1:9/hook").is_ok());
        assert!(Hook::parse("http://[::1]:9/hook").is_ok());
        // Debug shows the host, never the path or a header's value.
        let shown = format!("{h:?}");
        assert!(shown.contains("events.example.com"), "{shown}");
        assert!(!shown.contains("/v2") && !shown.contains("abc"), "{shown}");
    }

    #[test]
    fn a_bad_secret_is_refused_without_repeating_it() {
        for (secret, says) in [
            ("http://hooks.example.com/T0/SECRET", "must be https"),
            ("ftp://example.com/SECRET", "must be https"),
            ("SECRET not a url", "not a URL"),
            (r#"{"link": "https://x/SECRET"}"#, "not {\"url\""),
            ("https://user:SECRET@example.com/hook", "user and password"),
            (
                r#"{"url": "https://x/y", "headers": {"Token SECRET": "Authorization"}}"#,
                "header 1: its name",
            ),
            (
                r#"{"url": "https://x/y", "headers": {"Host": "SECRET.example.com"}}"#,
                "set by the request",
            ),
        ] {
            let e = Hook::parse(secret).unwrap_err();
            assert!(e.contains(says), "{secret}: {e}");
            assert!(!e.contains("SECRET"), "{e}");
        }
    }

    #[test]
    fn the_payload_is_escaped_slack_text_and_the_parts_as_they_are() {
        let p = payload("prod", "[prod] 2 of 9 resources", "Resource: arn:a\n");
        assert_eq!(p["text"], "*[prod] 2 of 9 resources*\nResource: arn:a\n");
        assert_eq!(p["environment"], "prod");
        assert_eq!(p["body"], "Resource: arn:a\n");
        let p = payload("prod", "s", "Owner=<!channel> & <https://x|y>");
        assert_eq!(
            p["text"],
            "*s*\nOwner=&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
        );
        assert_eq!(p["body"], "Owner=<!channel> & <https://x|y>");
        let p = payload("prod", "s", "Owner=*boss* _x_ ~y~ `z`");
        assert_eq!(
            p["text"],
            "*s*\nOwner=*\u{200B}boss*\u{200B} _\u{200B}x_\u{200B} ~\u{200B}y~\u{200B} `\u{200B}z`\u{200B}"
        );
        let long = "é".repeat(5000);
        let p = payload("prod", "s", &long);
        let text = p["text"].as_str().unwrap();
        assert!(text.len() <= TEXT_MAX, "{}", text.len());
        assert!(text.ends_with("in `body`)"));
        assert_eq!(p["body"], long.as_str());
    }

    /// A receiver answering each request with the next scripted reply:
    /// `(status, Retry-After)`, or `None` to hold the request unanswered.
    struct Receiver {
        url: String,
        /// Each request's body and Authorization header.
        got: Arc<Mutex<Vec<Got>>>,
    }

    type Got = (String, Option<String>);

    fn receiver(script: Vec<Option<(u16, Option<&'static str>)>>) -> Receiver {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", server.server_addr().to_ip().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&got);
        std::thread::spawn(move || {
            let mut script = script.into_iter();
            let mut held = Vec::new();
            for mut req in server.incoming_requests() {
                let mut body = String::new();
                let _ = req.as_reader().read_to_string(&mut body);
                let auth = req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Authorization"))
                    .map(|h| h.value.to_string());
                kept.lock().unwrap().push((body, auth));
                match script.next().flatten() {
                    None => held.push(req),
                    Some((status, retry_after)) => {
                        let mut resp = tiny_http::Response::empty(status);
                        if let Some(s) = retry_after {
                            resp.add_header(
                                tiny_http::Header::from_bytes("Retry-After", s).unwrap(),
                            );
                        }
                        let _ = req.respond(resp);
                    }
                }
            }
        });
        Receiver { url, got }
    }

    fn quick() -> Tries {
        Tries {
            backoff: Backoff {
                retries: 2,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(20),
            },
            timeout: Duration::from_millis(500),
            budget: Duration::from_secs(5),
        }
    }

    async fn send(secret: &str, tries: Tries) -> Sent {
        let hook = Hook::parse(secret).unwrap();
        post(
            &client().unwrap(),
            &hook,
            &Bytes::from_static(b"{\"a\":1}"),
            &tries,
        )
        .await
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_retried_within_the_tries() {
        let r = receiver(vec![
            Some((429, Some("0"))),
            Some((503, None)),
            Some((200, None)),
        ]);
        let secret = format!(
            r#"{{"url": "{}", "headers": {{"Authorization": "Bearer t"}}}}"#,
            r.url
        );
        assert_eq!(send(&secret, quick()).await, Sent::Delivered);
        let got = r.got.lock().unwrap().clone();
        assert_eq!(got.len(), 3);
        assert!(got
            .iter()
            .all(|(body, auth)| body == "{\"a\":1}" && auth.as_deref() == Some("Bearer t")));

        let r = receiver(vec![Some((500, None)); 5]);
        let sent = send(&r.url, quick()).await;
        assert_eq!(sent, Sent::Failed("HTTP 500 (3 tries)".into()));
        assert_eq!(r.got.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_refusal_or_a_bad_request_is_not_retried() {
        let r = receiver(vec![Some((410, None)), Some((200, None))]);
        assert_eq!(send(&r.url, quick()).await, Sent::Refused(StatusCode::GONE));
        let r = receiver(vec![Some((400, None)), Some((200, None))]);
        assert_eq!(send(&r.url, quick()).await, Sent::Failed("HTTP 400".into()));
        assert_eq!(r.got.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_unanswered_request_times_out_and_the_budget_bounds_the_whole() {
        let r = receiver(vec![None, Some((200, None))]);
        assert_eq!(send(&r.url, quick()).await, Sent::Delivered);
        assert_eq!(r.got.lock().unwrap().len(), 2);

        // A Retry-After longer than the budget left: not waited for.
        let r = receiver(vec![Some((429, Some("5"))), Some((200, None))]);
        let tries = Tries {
            budget: Duration::from_secs(1),
            ..quick()
        };
        let sent = send(&r.url, tries).await;
        assert_eq!(sent, Sent::Failed("HTTP 429 (1 tries), out of time".into()));
        assert_eq!(r.got.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connection_failure() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let hook = Hook::parse(&format!("http://127.0.0.1:{port}/hook")).unwrap();
        let sent = post(&client().unwrap(), &hook, &Bytes::new(), &quick()).await;
        match sent {
            Sent::Failed(why) => {
                assert!(why.starts_with("connection: "), "{why}");
                assert!(!why.contains(&port.to_string()), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
