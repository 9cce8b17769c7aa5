//! [`RevocationFollower`]: the actor that keeps a process's [`RevocationList`] current. It asks
//! for the revocations recorded since the last one it saw every [`POLL_INTERVAL`] (and at once
//! when told [`Refresh`]), so a revoked token is refused everywhere within about one interval.
//! Every service starts one with its verifier and stops it through its shutdown. Until its
//! first complete load the list is pending and the verifier refuses user tokens as UNAVAILABLE
//! (a service started while users is down fails closed).

use crate::RevocationList;
use actix::prelude::*;
use futures::future::LocalBoxFuture;
use service_kit::shutdown::ShutdownListener;
use std::time::Duration;

/// How often revocations are fetched. A revoked token is refused within this (plus one fetch).
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// One page of revocations after a sequence number: the ids and the last sequence number.
pub type Page = (Vec<String>, i64);
/// How a follower fetches a page after a sequence number (gRPC elsewhere, the database in users).
pub type Fetch = Box<dyn FnMut(i64) -> LocalBoxFuture<'static, Result<Page, String>>>;

pub struct RevocationFollower {
    list: RevocationList,
    fetch: Fetch,
    /// The last sequence number seen; the next fetch asks for what came after it.
    after: i64,
    /// A fetch is in flight: ticks and refreshes wait for it instead of piling up.
    fetching: bool,
    /// Logs an outage once, not every tick.
    failing: bool,
    /// Held until the actor has stopped, so the service's shutdown waits for it.
    shutdown: Option<ShutdownListener>,
}

impl RevocationFollower {
    pub fn new<F, Fut>(list: RevocationList, mut fetch: F, shutdown: ShutdownListener) -> Self
    where
        F: FnMut(i64) -> Fut + 'static,
        Fut: Future<Output = Result<Page, String>> + 'static,
    {
        let fetch: Fetch = Box::new(move |after| Box::pin(fetch(after)));
        list.mark_pending();
        Self { list, fetch, after: 0, fetching: false, failing: false, shutdown: Some(shutdown) }
    }

    /// Follows the users service's `ListRevocations` over gRPC, with this service's token.
    pub fn of_users_service(
        list: RevocationList,
        users_url: &str,
        service_token: crate::ServiceToken,
        shutdown: ShutdownListener,
    ) -> anyhow::Result<Self> {
        use restaurant_proto::v1::{ListRevocationsRequest, user_service_client::UserServiceClient};
        let client = UserServiceClient::new(service_kit::grpc::channel(users_url)?);
        let fetch = move |after_seq| {
            let mut client = client.clone();
            let mut request = tonic::Request::new(ListRevocationsRequest { after_seq });
            crate::grpc::attach_service(&mut request, &service_token, None);
            async move {
                let answer = service_kit::grpc::within_deadline(client.list_revocations(request))
                    .await
                    .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
                let answer = answer.into_inner();
                Ok((answer.revocation_ids, answer.last_seq))
            }
        };
        Ok(Self::new(list, fetch, shutdown))
    }

    fn fetch_next(&mut self, ctx: &mut Context<Self>) {
        if self.fetching {
            return;
        }
        self.fetching = true;
        let page = (self.fetch)(self.after);
        ctx.spawn(page.into_actor(self).map(|page, follower, ctx| {
            follower.fetching = false;
            match page {
                Ok((ids, last)) => {
                    follower.failing = false;
                    let more = !ids.is_empty() && last > follower.after;
                    follower.list.insert_all(ids);
                    follower.after = last.max(follower.after);
                    // Drain: a burst of logouts may take several pages; the list is known once
                    // the last page has been read.
                    if more {
                        follower.fetch_next(ctx);
                    } else {
                        follower.list.mark_loaded();
                    }
                }
                Err(e) => {
                    if !follower.failing {
                        tracing::warn!(error = %e, "fetching revocations failed; retrying");
                    }
                    follower.failing = true;
                }
            }
        }));
    }
}

impl Actor for RevocationFollower {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.fetch_next(ctx);
        ctx.run_interval(POLL_INTERVAL, |follower, ctx| follower.fetch_next(ctx));
        if let Some(mut shutdown) = self.shutdown.clone() {
            ctx.spawn(async move { shutdown.recv().await }.into_actor(self).map(|(), _, ctx| ctx.stop()));
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Tells the service's shutdown this follower has finished.
        self.shutdown.take();
    }
}

/// What every service that verifies tokens starts with: the verifier (public key only), the
/// service token for outgoing calls — renewed from the users service when the configured one
/// is a credential (`users mint-service-token`), used as it is otherwise — and a
/// [`RevocationFollower`] keeping the verifier's list current until `shutdown`.
pub struct ServiceAuth {
    pub verifier: crate::TokenVerifier,
    pub service_token: crate::ServiceToken,
}

impl ServiceAuth {
    /// Must run inside an actix system (it starts the follower and the renewer actors). With a
    /// credential, waits up to [`crate::renewal::FIRST_TOKEN_WAIT`] for the first service
    /// token, so a service that starts after users calls others from its first request.
    pub async fn start(
        settings: &service_kit::config::AuthSettings,
        shutdown: ShutdownListener,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let verifier =
            crate::TokenVerifier::from_public_key_hex(&settings.token_public_key).context("TOKEN_PUBLIC_KEY")?;
        let configured = crate::Token::new(settings.service_token.clone());
        let service_token = if verifier.authorize_afresh(&configured, &crate::Access::renew_service_token()).is_ok() {
            let token = crate::ServiceToken::default();
            crate::renewal::ServiceTokenRenewer::of_users_service(
                token.clone(),
                &settings.users_url,
                configured,
                shutdown.clone(),
            )?
            .start();
            if !token.first(crate::renewal::FIRST_TOKEN_WAIT).await {
                tracing::warn!("no service token yet (is users up?); calls are refused until one comes");
            }
            token
        } else {
            crate::ServiceToken::fixed(configured)
        };
        if settings.follow_revocations {
            RevocationFollower::of_users_service(
                verifier.revocations().clone(),
                &settings.users_url,
                service_token.clone(),
                shutdown,
            )?
            .start();
        }
        Ok(Self { verifier, service_token })
    }
}

/// Fetch now instead of at the next tick (for example right after a logout in this process).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Refresh;

impl Handler<Refresh> for RevocationFollower {
    type Result = ();

    fn handle(&mut self, _: Refresh, ctx: &mut Context<Self>) {
        self.fetch_next(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A revocation log in memory: what `ListRevocations` would answer, two ids per page.
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<String>>>);

    impl Log {
        fn page(&self, after: i64) -> Result<Page, String> {
            let ids = self.0.lock().map_err(|e| e.to_string())?;
            let start = usize::try_from(after).map_err(|e| e.to_string())?;
            let page: Vec<String> = ids.iter().skip(start).take(2).cloned().collect();
            Ok((page.clone(), after + i64::try_from(page.len()).map_err(|e| e.to_string())?))
        }
    }

    #[actix_rt::test]
    async fn follows_every_page_and_stops_with_the_service() {
        let log = Log::default();
        log.0.lock().expect("unwrap: not poisoned").extend((0..5).map(|i| format!("rev-{i}")));
        let list = RevocationList::default();
        let shutdown = service_kit::shutdown::Shutdown::new();
        let fetching = log.clone();
        let follower = RevocationFollower::new(
            list.clone(),
            move |after| std::future::ready(fetching.page(after)),
            shutdown.listener(),
        )
        .start();
        // Five ids take three pages; all arrive without waiting for further ticks (the first
        // tick is a poll interval away).
        let deadline = tokio::time::Instant::now() + POLL_INTERVAL;
        while !list.contains_any(&["rev-4".to_owned()]) {
            assert!(tokio::time::Instant::now() < deadline, "the follower did not drain the log");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!((0..5).all(|i| list.contains_any(&[format!("rev-{i}")])));
        // A logout recorded later is seen once asked.
        log.0.lock().expect("unwrap: not poisoned").push("rev-5".into());
        follower.do_send(Refresh);
        let deadline = tokio::time::Instant::now() + POLL_INTERVAL;
        while !list.contains_any(&["rev-5".to_owned()]) {
            assert!(tokio::time::Instant::now() < deadline, "Refresh did not fetch before the next tick");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The service's shutdown completes only once the follower has stopped.
        tokio::time::timeout(Duration::from_secs(2), shutdown.complete()).await.expect("the follower stopped");
        assert!(!follower.connected(), "the follower is still running");
    }

    /// A service that starts while users is down must not trust user tokens it cannot check
    /// against the revocation list: UNAVAILABLE until the list has loaded once, service tokens
    /// meanwhile accepted.
    #[actix_rt::test]
    async fn user_tokens_are_refused_until_the_list_has_loaded() {
        use crate::{Access, Principal, Role, TokenError, TokenIssuer, UserClaims};
        let issuer = TokenIssuer::generate();
        let verifier = issuer.verifier();
        let hour = Duration::from_secs(3600);
        let claims = UserClaims { user_id: uuid::Uuid::new_v4(), username: "ada".into(), role: Role::Customer };
        let ada = issuer.user_token(&claims, hour).expect("minted").token;
        let orders = issuer.service_token("orders", hour).expect("minted").token;
        let read = Access::read("order");
        assert!(verifier.authorize(&ada, &read).is_ok(), "a list nobody follows is complete");

        // users is down: every fetch fails.
        let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let log = Log::default();
        log.0.lock().expect("unwrap: not poisoned").push("rev-old".into());
        let shutdown = service_kit::shutdown::Shutdown::new();
        let (fetching, users_up) = (log.clone(), up.clone());
        let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = fetches.clone();
        RevocationFollower::new(
            verifier.revocations().clone(),
            move |after| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let page = if users_up.load(std::sync::atomic::Ordering::SeqCst) {
                    fetching.page(after)
                } else {
                    Err("Unavailable: users is down".to_owned())
                };
                std::future::ready(page)
            },
            shutdown.listener(),
        )
        .start();
        // Several failed fetches later, still refused, and as UNAVAILABLE (asking again helps).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while fetches.load(std::sync::atomic::Ordering::SeqCst) < 2 {
            assert!(tokio::time::Instant::now() < deadline, "the follower did not retry");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = verifier.authorize(&ada, &read).expect_err("no revocation list yet");
        assert_eq!(refused, TokenError::RevocationsUnknown);
        assert_eq!(service_kit::Classified::kind(&refused), service_kit::ErrorKind::Unavailable);
        assert_eq!(verifier.authorize_afresh(&ada, &read), Err(TokenError::RevocationsUnknown));
        assert_eq!(
            verifier.authorize(&orders, &Access::read("order").for_services()),
            Ok(Principal::Service("orders".into()))
        );

        // users is back: once the list has loaded, the token is accepted.
        up.store(true, std::sync::atomic::Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while verifier.authorize(&ada, &read).is_err() {
            assert!(tokio::time::Instant::now() < deadline, "the token was still refused after users came back");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(verifier.revocations().contains_any(&["rev-old".to_owned()]));
        tokio::time::timeout(Duration::from_secs(2), shutdown.complete()).await.expect("the follower stopped");
    }
}
