//! `grpc_request_duration_seconds{method}`: a tower layer for tonic servers that times each
//! call from its request to its response head (for a stream, until it starts).

use futures::future::BoxFuture;
use prometheus::{HistogramOpts, HistogramVec, Registry};
use std::task::{Context, Poll};
use std::time::Instant;

#[derive(Clone)]
pub struct GrpcMetricsLayer {
    seconds: HistogramVec,
}

impl GrpcMetricsLayer {
    pub fn register(registry: &Registry) -> anyhow::Result<Self> {
        let seconds = HistogramVec::new(
            HistogramOpts::new("grpc_request_duration_seconds", "gRPC calls by method")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0]),
            &["method"],
        )?;
        registry.register(Box::new(seconds.clone()))?;
        Ok(Self { seconds })
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner, seconds: self.seconds.clone() }
    }
}

#[derive(Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    seconds: HistogramVec,
}

impl<S, B> tower::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The path is `/<package.Service>/<Method>`: a bounded set of labels.
        let method = request.uri().path().to_owned();
        let seconds = self.seconds.clone();
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let answer = call.await;
            seconds.with_label_values(&[method.as_str()]).observe(started.elapsed().as_secs_f64());
            answer
        })
    }
}
