//! The operator endpoints every HTTP service mounts, on two ports:
//!
//! - public (the service's own port, behind the reverse proxy): `GET /healthz` (the process
//!   answers) and `GET /readyz`, which says only `ready` or `not ready` — what a load balancer
//!   needs, nothing about the insides;
//! - internal (the ops port, never published): `GET /healthz`, `GET /readyz` with each check's
//!   result (its database, its broker), and `GET /metrics` (Prometheus text format).
//!
//! Both `/readyz` share one result, refreshed at most every [`READINESS_REUSED_FOR`] by one
//! caller at a time, and the broker check reuses one long-lived client: a flood of `/readyz`
//! costs neither a database round trip nor a broker connection per request.

use actix_web::{HttpResponse, web};
use futures::future::BoxFuture;
use prometheus::{Encoder as _, Registry, TextEncoder};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one readiness check may take before it counts as failed.
pub const READINESS_CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a readiness result is reused. Probes come every few seconds; anything more often
/// is answered from the last result instead of asking the database and broker again.
pub const READINESS_REUSED_FOR: Duration = Duration::from_secs(1);

type Check = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// Each check's name and its failure, if it failed.
type Readiness = Vec<(&'static str, Option<String>)>;

/// A service's metrics registry and readiness checks.
#[derive(Clone)]
pub struct Ops {
    registry: Registry,
    checks: Vec<(&'static str, Check)>,
    http_seconds: prometheus::HistogramVec,
    /// The last readiness result and when it was taken; the lock also makes concurrent
    /// `/readyz` wait for the one check in flight instead of starting their own.
    last_readiness: Arc<tokio::sync::Mutex<Option<(Instant, Readiness)>>>,
}

impl Ops {
    /// A fresh registry whose metrics all carry `service="<name>"`.
    pub fn new(service: &'static str) -> Self {
        let labels = std::iter::once(("service".to_owned(), service.to_owned())).collect();
        let registry = Registry::new_custom(None, Some(labels)).expect("unwrap: a constant label is valid");
        let http_seconds = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new("http_request_duration_seconds", "HTTP requests by route and status")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["method", "route", "status"],
        )
        .expect("unwrap: constant metric options are valid");
        registry.register(Box::new(http_seconds.clone())).expect("unwrap: registered once per Ops");
        Self { registry, checks: Vec::new(), http_seconds, last_readiness: Arc::default() }
    }

    /// Where the service registers its own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Adds a check that `/readyz` runs; `name` shows in the internal answer.
    pub fn with_check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(check()))));
        self
    }

    /// `/readyz` asks the database for `SELECT 1`.
    pub fn with_database(self, pool: &deadpool_postgres::Pool) -> Self {
        let pool = pool.clone();
        self.with_check("database", move || {
            let pool = pool.clone();
            async move { crate::db::ping(&pool).await }
        })
    }

    /// `/readyz` asks the broker for its metadata, through one client made at the first check
    /// and kept (it reconnects by itself).
    pub fn with_broker(self, kafka: &crate::config::KafkaSettings) -> Self {
        let probe = Arc::new(crate::kafka::BrokerProbe::new(kafka));
        self.with_check("broker", move || {
            let probe = Arc::clone(&probe);
            async move { probe.ping().await }
        })
    }

    /// `/readyz` says not ready until the service's topics exist.
    pub fn with_topics(self, topics: &crate::kafka::Topics) -> Self {
        let topics = topics.clone();
        self.with_check("topics", move || std::future::ready(topics.check()))
    }

    /// Mounts the public endpoints: `/healthz`, and `/readyz` without details.
    pub fn configure_public(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.clone()))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz_public));
    }

    /// Mounts the internal endpoints: `/healthz`, the detailed `/readyz` and `/metrics`.
    pub fn configure_internal(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.clone()))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz_internal))
            .route("/metrics", web::get().to(metrics));
    }

    /// The readiness of the last [`READINESS_REUSED_FOR`], or a fresh one.
    async fn readiness(&self) -> Readiness {
        let mut last = self.last_readiness.lock().await;
        if let Some((at, readiness)) = last.as_ref()
            && at.elapsed() < READINESS_REUSED_FOR
        {
            return readiness.clone();
        }
        let readiness = futures::future::join_all(self.checks.iter().map(|(name, check)| async move {
            let outcome = tokio::time::timeout(READINESS_CHECK_TIMEOUT, check()).await;
            let error = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(_) => Some(format!("no answer within {READINESS_CHECK_TIMEOUT:?}")),
            };
            (*name, error)
        }))
        .await;
        if readiness.iter().any(|(_, error)| error.is_some()) {
            tracing::warn!(?readiness, "not ready");
        }
        *last = Some((Instant::now(), readiness.clone()));
        readiness
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Yes or no: what went wrong is for the ops port (it names hosts and errors).
async fn readyz_public(ops: web::Data<Ops>) -> HttpResponse {
    if ops.readiness().await.iter().all(|(_, error)| error.is_none()) {
        HttpResponse::Ok().content_type("text/plain").body("ready\n")
    } else {
        HttpResponse::ServiceUnavailable().content_type("text/plain").body("not ready\n")
    }
}

async fn readyz_internal(ops: web::Data<Ops>) -> HttpResponse {
    let results = ops.readiness().await;
    let ready = results.iter().all(|(_, error)| error.is_none());
    let body: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(name, error)| {
            let value = error.map_or_else(|| "ok".into(), serde_json::Value::String);
            (name.to_owned(), value)
        })
        .collect();
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

async fn metrics(ops: web::Data<Ops>) -> HttpResponse {
    let mut buffer = Vec::new();
    match TextEncoder::new().encode(&ops.registry.gather(), &mut buffer) {
        Ok(()) => HttpResponse::Ok().content_type(prometheus::TEXT_FORMAT).body(buffer),
        Err(e) => {
            tracing::error!(error = %e, "encoding metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The access log every HTTP service uses: client (as [`crate::http::client_address`] sees it:
/// a forwarding header only from a trusted proxy), method, path **without the query string**
/// (the seed's SSE endpoint carries a token there), status, size, seconds.
pub fn access_log() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new(r#"%{client}xi "%{method}xi %U" %s %b %T"#)
        .custom_request_replace("client", |request| {
            crate::http::client_address(request.request()).map_or_else(|| "-".to_owned(), |a| a.to_string())
        })
        .custom_request_replace("method", |request| request.method().to_string())
        .exclude("/healthz")
        .exclude("/metrics")
}

/// Middleware (`App::wrap(from_fn(observe_http))`) that times every request into
/// `http_request_duration_seconds{method, route, status}`; the route is the matched pattern
/// (`/ticket/{order_id}`), never the raw path, so ids do not explode the label set.
pub async fn observe_http(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let histogram = request.app_data::<web::Data<Ops>>().map(|ops| ops.http_seconds.clone());
    let method = request.method().to_string();
    let response = next.call(request).await?;
    if let Some(histogram) = histogram {
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        histogram
            .with_label_values(&[method.as_str(), route.as_str(), response.status().as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(response)
}
