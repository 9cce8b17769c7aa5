//! Short-lived service tokens. A service is deployed with a long-lived *credential*
//! (`users mint-service-token`), which may do one thing: be exchanged with the users service
//! for a service token that lives [`crate::SERVICE_TOKEN_TTL`] (15 minutes by default). The
//! [`ServiceTokenRenewer`] actor makes that exchange at start and again when half of the
//! token's life is gone, and every outgoing call reads the current token from the
//! [`ServiceToken`] it shares. A copied everyday token is worth minutes; the credential only
//! ever travels to the users service.

use crate::Token;
use actix::prelude::*;
use futures::future::LocalBoxFuture;
use service_kit::shutdown::ShutdownListener;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The first retry after a failed exchange (users not up yet, a network blip), doubling up to
/// [`RETRY_AT_MOST`]: a service that starts before users gets its token soon after users is up.
pub const RETRY_FIRST: Duration = Duration::from_millis(200);
pub const RETRY_AT_MOST: Duration = Duration::from_secs(10);
/// Never renew more often than this, whatever a token's remaining life says.
pub const RENEW_AT_LEAST_AFTER: Duration = Duration::from_secs(1);

/// How long a starting service waits for its first service token before it serves anyway
/// (users down: the renewer keeps trying, and calls are refused until it succeeds).
pub const FIRST_TOKEN_WAIT: Duration = Duration::from_secs(5);

/// The service token this process presents, shared by every client that calls another service.
/// Empty until the first exchange succeeds (calls then go out without one and are refused).
#[derive(Debug, Clone)]
pub struct ServiceToken(Arc<tokio::sync::watch::Sender<Option<Token>>>);

impl Default for ServiceToken {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(None)))
    }
}

impl ServiceToken {
    /// A token used as it is, never renewed (a plain service token, as tests mint them).
    pub fn fixed(token: Token) -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new(Some(token))))
    }

    /// The token to present now.
    pub fn current(&self) -> Option<Token> {
        self.0.borrow().clone()
    }

    /// Waits up to `within` for a token; whether there is one.
    pub async fn first(&self, within: Duration) -> bool {
        let mut changes = self.0.subscribe();
        tokio::time::timeout(within, changes.wait_for(Option::is_some)).await.is_ok_and(|seen| seen.is_ok())
    }

    fn replace(&self, token: Token) {
        self.0.send_replace(Some(token));
    }
}

/// A fresh service token and when it expires.
pub type Renewed = (Token, SystemTime);
/// How a renewer makes the exchange (gRPC to the users service; tests pass their own).
pub type Exchange = Box<dyn FnMut() -> LocalBoxFuture<'static, Result<Renewed, String>>>;

/// Keeps a [`ServiceToken`] fresh until the service shuts down.
pub struct ServiceTokenRenewer {
    token: ServiceToken,
    exchange: Exchange,
    /// The wait before the next retry after a failure.
    retry: Duration,
    /// Logs an outage once, not every retry.
    failing: bool,
    /// Held until the actor has stopped, so the service's shutdown waits for it.
    shutdown: Option<ShutdownListener>,
}

impl ServiceTokenRenewer {
    pub fn new<F, Fut>(token: ServiceToken, mut exchange: F, shutdown: ShutdownListener) -> Self
    where
        F: FnMut() -> Fut + 'static,
        Fut: Future<Output = Result<Renewed, String>> + 'static,
    {
        let exchange: Exchange = Box::new(move || Box::pin(exchange()));
        Self { token, exchange, retry: RETRY_FIRST, failing: false, shutdown: Some(shutdown) }
    }

    /// Exchanges `credential` with the users service's `RenewServiceToken`.
    pub fn of_users_service(
        token: ServiceToken,
        users_url: &str,
        credential: Token,
        shutdown: ShutdownListener,
    ) -> anyhow::Result<Self> {
        use restaurant_proto::v1::{RenewServiceTokenRequest, user_service_client::UserServiceClient};
        let client = UserServiceClient::new(service_kit::grpc::channel(users_url)?);
        let exchange = move || {
            let mut client = client.clone();
            let mut request = tonic::Request::new(RenewServiceTokenRequest {});
            crate::grpc::attach(&mut request, &credential, None);
            async move {
                let answer = service_kit::grpc::within_deadline(client.renew_service_token(request))
                    .await
                    .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?
                    .into_inner();
                let expires_at = SystemTime::UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(answer.expires_at_unix).map_err(|e| e.to_string())?);
                Ok((Token::new(answer.token), expires_at))
            }
        };
        Ok(Self::new(token, exchange, shutdown))
    }

    fn renew(&mut self, ctx: &mut Context<Self>) {
        let exchange = (self.exchange)();
        ctx.spawn(exchange.into_actor(self).map(|renewed, renewer, ctx| {
            let next = match renewed {
                Ok((token, expires_at)) => {
                    renewer.token.replace(token);
                    if renewer.failing {
                        tracing::info!("service token renewed again");
                    }
                    renewer.failing = false;
                    renewer.retry = RETRY_FIRST;
                    // Half the remaining life: time enough to retry many times before it ends.
                    let left = expires_at.duration_since(SystemTime::now()).unwrap_or_default();
                    (left / 2).max(RENEW_AT_LEAST_AFTER)
                }
                Err(e) => {
                    if !renewer.failing {
                        tracing::warn!(error = %e, "renewing the service token failed; retrying");
                    }
                    renewer.failing = true;
                    let wait = renewer.retry;
                    renewer.retry = (renewer.retry * 2).min(RETRY_AT_MOST);
                    wait
                }
            };
            ctx.run_later(next, |renewer, ctx| renewer.renew(ctx));
        }));
    }
}

impl Actor for ServiceTokenRenewer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.renew(ctx);
        if let Some(mut shutdown) = self.shutdown.clone() {
            ctx.spawn(async move { shutdown.recv().await }.into_actor(self).map(|(), _, ctx| ctx.stop()));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Tells the service's shutdown this renewer has finished.
        self.shutdown.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[actix_rt::test]
    async fn renews_before_expiry_retries_failures_and_stops_with_the_service() {
        // The exchange fails once, then hands out tokens that live 2 s: renewed about every 1 s.
        let answers = Arc::new(Mutex::new(0u32));
        let counting = Arc::clone(&answers);
        let token = ServiceToken::default();
        let shutdown = service_kit::shutdown::Shutdown::new();
        let renewer = ServiceTokenRenewer::new(
            token.clone(),
            move || {
                let mut n = counting.lock().expect("unwrap: not poisoned");
                *n += 1;
                let answer = match *n {
                    1 => Err("users is not up yet".to_owned()),
                    n => Ok((Token::new(format!("token-{n}")), SystemTime::now() + Duration::from_secs(2))),
                };
                std::future::ready(answer)
            },
            shutdown.listener(),
        )
        .start();
        assert_eq!(token.current(), None, "no token before the first exchange");
        // The failed first exchange is retried at once, not after a half-life.
        assert!(token.first(Duration::from_secs(2)).await, "no token after a failed first exchange");
        let first = token.current().map(|t| t.as_str().to_owned());
        assert_eq!(first.as_deref(), Some("token-2"));
        // Renewed before the 2 s it lives are over.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while token.current().map(|t| t.as_str().to_owned()) == first {
            assert!(tokio::time::Instant::now() < deadline, "not renewed within the token's life");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::timeout(Duration::from_secs(2), shutdown.complete()).await.expect("the renewer stopped");
        assert!(!renewer.connected(), "the renewer is still running");
    }

    #[test]
    fn a_fixed_token_is_always_there() {
        let token = ServiceToken::fixed(Token::new("plain"));
        assert_eq!(token.current().map(|t| t.as_str().to_owned()).as_deref(), Some("plain"));
    }
}
