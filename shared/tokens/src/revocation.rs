//! Keeping a [`RevocationList`] current: every service polls for revocations recorded since
//! the last one it saw, so a revoked token is refused everywhere within about one interval.

use crate::RevocationList;
use std::future::Future;
use std::time::Duration;

/// How often revocations are fetched. A revoked token is refused within this (plus one fetch).
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Polls `fetch(after_seq) -> (revocation ids, last seq)` forever, adding what it returns to
/// `list`. A failing fetch is logged once per outage and retried on the next tick.
pub async fn follow<F, Fut, E>(list: RevocationList, mut fetch: F)
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<(Vec<String>, i64), E>>,
    E: std::fmt::Display,
{
    let mut after = 0;
    let mut failing = false;
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Drain: a burst of logouts may take several pages.
        loop {
            match fetch(after).await {
                Ok((ids, last)) => {
                    failing = false;
                    let more = !ids.is_empty() && last > after;
                    list.insert_all(ids);
                    after = last.max(after);
                    if !more {
                        break;
                    }
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "fetching revocations failed; retrying");
                    }
                    failing = true;
                    break;
                }
            }
        }
    }
}

/// Follows the users service's revocations over gRPC (`ListRevocations`, with this service's
/// token). Runs until dropped.
pub async fn follow_users_service(list: RevocationList, users_url: String, service_token: crate::Token) {
    use restaurant_proto::v1::{ListRevocationsRequest, user_service_client::UserServiceClient};
    let channel = match service_kit::grpc::channel(&users_url) {
        Ok(channel) => channel,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "USERS_GRPC_URL is invalid; revocations will not be seen");
            return;
        }
    };
    let client = UserServiceClient::new(channel);
    follow(list, move |after_seq| {
        let mut client = client.clone();
        let mut request = tonic::Request::new(ListRevocationsRequest { after_seq });
        crate::grpc::attach(&mut request, &service_token, None);
        async move {
            let answer = client.list_revocations(request).await?.into_inner();
            Ok::<_, tonic::Status>((answer.revocation_ids, answer.last_seq))
        }
    })
    .await;
}
