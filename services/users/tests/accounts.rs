//! The users service on a real database: registration, login, staff accounts, lookups and the
//! answers to bad input.

use restaurant_proto::v1 as pb;
use restaurant_proto::v1::user_service_client::UserServiceClient;
use serde_json::{Value, json};
use testkit::{TestAuth, TestDatabase};
use tokens::Token;

struct Running {
    app: users::Application,
    db: TestDatabase,
    auth: TestAuth,
    http: reqwest::Client,
}

async fn start() -> anyhow::Result<Running> {
    start_with(users::throttle::SignInLimits::default()).await
}

async fn start_with(sign_in_limits: users::throttle::SignInLimits) -> anyhow::Result<Running> {
    testkit::init_logs();
    let db = TestDatabase::create().await?;
    let auth = TestAuth::new();
    let app = users::Application::build(users::Config {
        token_ttl: std::time::Duration::from_secs(600),
        sign_in_limits,
        ..users::Config::for_tests(db.settings(), auth.private_key_hex())
    })
    .await?;
    Ok(Running { app, db, auth, http: reqwest::Client::new() })
}

impl Running {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let response = self.http.post(format!("http://{}{path}", self.app.http_addr())).json(&body).send().await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    async fn grpc(&self) -> anyhow::Result<UserServiceClient<tonic::transport::Channel>> {
        Ok(UserServiceClient::connect(format!("http://{}", self.app.grpc_addr())).await?)
    }

    fn as_user<T>(&self, user: &Token, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        tokens::grpc::attach(&mut request, &self.auth.service_token("gateway"), Some(user));
        request
    }
}

#[actix_rt::test]
async fn registration_makes_customers_and_refuses_what_it_should() -> anyhow::Result<()> {
    let s = start().await?;
    let (status, body) = s.post("/auth/register", json!({ "username": "Ada", "password": "correct horse" })).await?;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["role"], "CUSTOMER");
    assert!(body["token"].as_str().is_some_and(|t| t.len() > 50));

    for (body, status, code) in [
        (json!({ "username": "ada", "password": "another password" }), 409, "CONFLICT"),
        (json!({ "username": "ad", "password": "correct horse" }), 400, "BAD_USER_INPUT"),
        (json!({ "username": "ada lovelace", "password": "correct horse" }), 400, "BAD_USER_INPUT"),
        (json!({ "username": "grace", "password": "short" }), 400, "BAD_USER_INPUT"),
        (json!({ "username": "grace", "password": "correct horse", "role": "KITCHEN_STAFF" }), 400, "BAD_USER_INPUT"),
        (json!({ "username": "grace" }), 400, "BAD_USER_INPUT"),
        (json!({ "username": "x".repeat(5000), "password": "correct horse" }), 413, "PAYLOAD_TOO_LARGE"),
    ] {
        let (got, answer) = s.post("/auth/register", body.clone()).await?;
        assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{body}: {answer}");
    }
    assert_eq!(s.db.count("users.users").await?, 1, "refusals write nothing");
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn login_answers_alike_for_unknown_users_and_wrong_passwords() -> anyhow::Result<()> {
    let s = start().await?;
    s.post("/auth/register", json!({ "username": "ada", "password": "correct horse" })).await?;
    let (status, body) = s.post("/auth/login", json!({ "username": "ADA", "password": "correct horse" })).await?;
    assert_eq!(status, 200, "usernames are case-insensitive: {body}");
    let wrong = s.post("/auth/login", json!({ "username": "ada", "password": "wrong horse" })).await?;
    let unknown = s.post("/auth/login", json!({ "username": "nobody", "password": "wrong horse" })).await?;
    assert_eq!(wrong.0, 401);
    assert_eq!(wrong, unknown, "the same answer tells an attacker nothing");
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn staff_accounts_come_only_from_the_operator_command() -> anyhow::Result<()> {
    let s = start().await?;
    // A staff password meets the customers' minimum: a short one is refused and creates nothing.
    let short =
        users::admin::create_staff(&s.db.settings(), s.auth.private_key_hex().expose(), "chef", "kitchen").await;
    let refusal = short.expect_err("a 7-character staff password is refused").to_string();
    assert!(refusal.contains("8 to 128 characters"), "{refusal}");
    assert_eq!(s.db.count("users.users").await?, 0);
    users::admin::create_staff(&s.db.settings(), s.auth.private_key_hex().expose(), "chef", "kitchen-local").await?;
    // Running it again resets the password and keeps one account.
    users::admin::create_staff(&s.db.settings(), s.auth.private_key_hex().expose(), "chef", "new secret").await?;
    assert_eq!(s.db.count("users.users").await?, 1);
    let (status, body) = s.post("/auth/login", json!({ "username": "chef", "password": "new secret" })).await?;
    assert_eq!((status, body["user"]["role"].as_str()), (200, Some("KITCHEN_STAFF")));
    s.app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn customers_look_up_only_themselves() -> anyhow::Result<()> {
    let s = start().await?;
    let (_, ada) = s.post("/auth/register", json!({ "username": "ada", "password": "correct horse" })).await?;
    let (_, bob) = s.post("/auth/register", json!({ "username": "bob", "password": "correct horse" })).await?;
    let ada_token = Token::new(ada["token"].as_str().expect("a token"));
    let ada_id = ada["user"]["id"].as_str().expect("an id").to_owned();
    let bob_id = bob["user"]["id"].as_str().expect("an id").to_owned();
    let mut grpc = s.grpc().await?;

    let me = grpc.get_user(s.as_user(&ada_token, pb::GetUserRequest { id: ada_id.clone() })).await?;
    assert_eq!(me.into_inner().user.map(|u| u.username), Some("ada".into()));
    let other = grpc.get_user(s.as_user(&ada_token, pb::GetUserRequest { id: bob_id.clone() })).await;
    assert_eq!(other.expect_err("bob is not ada").code(), tonic::Code::PermissionDenied);
    let batch = grpc
        .get_users(s.as_user(&ada_token, pb::GetUsersRequest { ids: vec![ada_id.clone(), bob_id.clone()] }))
        .await?;
    assert_eq!(batch.into_inner().users.len(), 1, "a customer's batch answers only their own record");

    let (_, chef) = s.auth.user_token(tokens::Role::KitchenStaff);
    let batch = grpc.get_users(s.as_user(&chef, pb::GetUsersRequest { ids: vec![ada_id, bob_id] })).await?;
    assert_eq!(batch.into_inner().users.len(), 2);

    let search =
        |token: &Token, query: &str| s.as_user(token, pb::SearchUsersRequest { query: query.into(), first: 0 });
    let found = grpc.search_users(search(&chef, "B")).await?.into_inner().users;
    assert_eq!(found.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["bob"]);
    let found = grpc.search_users(search(&ada_token, "b")).await?.into_inner().users;
    assert!(found.is_empty(), "a customer finds only themselves");
    let found = grpc.search_users(search(&ada_token, "a")).await?.into_inner().users;
    assert_eq!(found.len(), 1);
    let refused = grpc.search_users(search(&chef, "")).await.expect_err("an empty query");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let wildcard = grpc.search_users(search(&chef, "%")).await?.into_inner().users;
    assert!(wildcard.is_empty(), "LIKE wildcards are matched literally");

    let bad = grpc.get_user(s.as_user(&chef, pb::GetUserRequest { id: "nope".into() })).await;
    assert_eq!(bad.expect_err("not a uuid").code(), tonic::Code::InvalidArgument);
    let no_service =
        grpc.get_user(tonic::Request::new(pb::GetUserRequest { id: uuid::Uuid::new_v4().to_string() })).await;
    assert_eq!(no_service.expect_err("no tokens").code(), tonic::Code::Unauthenticated);
    s.app.stop().await;
    Ok(())
}

/// Followers ask for `seq > last seen`; a logout that took an earlier seq but commits later
/// must not slip behind them. Logouts therefore commit in seq order: a second logout waits
/// until the first has committed, and a follower never sees the later one alone.
#[actix_rt::test]
async fn logouts_commit_in_the_order_followers_read_them() -> anyhow::Result<()> {
    let s = start().await?;
    let pool = service_kit::db::pool(&s.db.settings())?;
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut first = pool.get().await?;
    let first = first.transaction().await?;
    users::store::revoke(&first, &["rev-first".to_owned()], expires).await?;

    let second_pool = pool.clone();
    let second = actix_rt::spawn(async move {
        let mut client = second_pool.get().await?;
        let transaction = client.transaction().await?;
        users::store::revoke(&transaction, &["rev-second".to_owned()], expires).await?;
        transaction.commit().await?;
        anyhow::Ok(())
    });
    // The second logout waits for the first one's lock (seen from PostgreSQL itself)...
    let observer = pool.get().await?;
    let waiting_for_the_lock = "SELECT count(*) FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE users.revoked_tokens%'";
    testkit::eventually("the second logout to wait for the first", || async {
        let row = observer.query_one(waiting_for_the_lock, &[]).await.ok()?;
        (row.get::<_, i64>(0) == 1).then_some(())
    })
    .await;
    // ...so a follower reading now sees neither, and cannot move past the first.
    let (seen, last) = users::store::revocations_after(&**observer, 0, 100).await?;
    assert!(seen.is_empty(), "a follower saw {seen:?} while the first logout was uncommitted");
    assert_eq!(last, 0);
    first.commit().await?;
    second.await??;
    let (seen, _) = users::store::revocations_after(&**observer, 0, 100).await?;
    assert_eq!(seen, ["rev-first", "rev-second"], "commit order is seq order");
    Ok(())
}

/// 40 wrong passwords in a row were all answered "wrong password": now an account gets a
/// burst of tries, then RATE_LIMITED with a wait, over REST and gRPC alike, and a correct
/// password does not jump the queue.
#[actix_rt::test]
async fn guessing_a_password_is_throttled_per_account_on_every_transport() -> anyhow::Result<()> {
    let s = start().await?;
    s.post("/auth/register", json!({ "username": "ada", "password": "correct horse" })).await?;
    s.post("/auth/register", json!({ "username": "bob", "password": "correct horse" })).await?;
    for guess in 0..users::throttle::ACCOUNT_BURST {
        let (status, _) =
            s.post("/auth/login", json!({ "username": "ada", "password": format!("guess {guess}") })).await?;
        assert_eq!(status, 401, "guess {guess} is answered as a wrong password");
    }
    let response = s
        .http
        .post(format!("http://{}/auth/login", s.app.http_addr()))
        .json(&json!({ "username": "ADA", "password": "correct horse" }))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response.headers()["retry-after"].to_str()?.parse()?;
    assert!((1..=12).contains(&wait), "Retry-After: {wait}");
    let body: Value = response.json().await?;
    assert_eq!(body["error"]["code"], "RATE_LIMITED", "{body}");

    // Through gRPC (as the gateway calls it, from another client address): the same account
    // is still throttled, with the wait in the metadata.
    let mut request =
        tonic::Request::new(pb::LoginRequest { username: "ada".into(), password: "correct horse".into() });
    tokens::grpc::attach(&mut request, &s.auth.service_token("gateway"), None);
    request.metadata_mut().insert(service_kit::grpc::CLIENT_ADDRESS, "203.0.113.9".parse()?);
    let refused = s.grpc().await?.login(request).await.expect_err("throttled");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert!(refused.metadata().get("retry-after").is_some());
    // Another account is not affected.
    let (status, _) = s.post("/auth/login", json!({ "username": "bob", "password": "correct horse" })).await?;
    assert_eq!(status, 200);
    s.app.stop().await;
    Ok(())
}

/// One address gets a burst of sign-ups and sign-ins across accounts, then waits.
#[actix_rt::test]
async fn a_flood_from_one_address_is_throttled() -> anyhow::Result<()> {
    // The default burst, refilled hourly: the test does not depend on how fast hashes are.
    let limits = users::throttle::SignInLimits {
        per_address: users::throttle::Limit {
            burst: users::throttle::ADDRESS_BURST,
            refill: std::time::Duration::from_secs(3600),
        },
        ..Default::default()
    };
    let s = start_with(limits).await?;
    let mut answers = Vec::new();
    for n in 0..=users::throttle::ADDRESS_BURST {
        let (status, body) =
            s.post("/auth/register", json!({ "username": format!("guest{n}"), "password": "correct horse" })).await?;
        answers.push((status, body["error"]["code"].as_str().map(str::to_owned)));
    }
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, users::throttle::ADDRESS_BURST as usize, "{answers:?}");
    assert_eq!(answers.last(), Some(&(429, Some("RATE_LIMITED".to_owned()))));
    assert_eq!(s.db.count("users.users").await?, i64::from(users::throttle::ADDRESS_BURST), "refusals write nothing");
    s.app.stop().await;
    Ok(())
}

/// Revocations of tokens that have expired anyway are deleted; the others stay.
#[actix_rt::test]
async fn expired_revocations_are_pruned() -> anyhow::Result<()> {
    let s = start().await?;
    let pool = service_kit::db::pool(&s.db.settings())?;
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    users::store::revoke(&transaction, &["rev-live".to_owned()], chrono::Utc::now() + chrono::Duration::hours(1))
        .await?;
    users::store::revoke(&transaction, &["rev-dead".to_owned()], chrono::Utc::now() - chrono::Duration::hours(1))
        .await?;
    transaction.commit().await?;
    assert_eq!(users::store::prune_expired_revocations(&**client).await?, 1);
    let (left, _) = users::store::revocations_after(&**client, 0, 100).await?;
    assert_eq!(left, ["rev-live"]);
    s.app.stop().await;
    Ok(())
}

/// A service's deploy-time credential buys a short-lived service token, and nothing else does.
#[actix_rt::test]
async fn a_credential_is_exchanged_for_a_short_lived_service_token() -> anyhow::Result<()> {
    let s = start().await?;
    let verifier = s.auth.issuer().verifier();
    let renew = |token: &Token| {
        let mut request = tonic::Request::new(pb::RenewServiceTokenRequest {});
        tokens::grpc::attach(&mut request, token, None);
        request
    };
    let credential = s.auth.issuer().service_credential("kitchen", std::time::Duration::from_secs(3600))?.token;
    let before = std::time::SystemTime::now();
    let answer = s.grpc().await?.renew_service_token(renew(&credential)).await?.into_inner();
    let after = std::time::SystemTime::now();
    let token = Token::new(answer.token);
    assert_eq!(
        verifier.authorize(&token, &tokens::Access::read("revocations").for_services())?,
        tokens::Principal::Service("kitchen".into())
    );
    // Issued between `before` and `after` for SERVICE_TOKEN_TTL (in whole seconds), however
    // long the call took.
    let expires_at = std::time::Duration::from_secs(u64::try_from(answer.expires_at_unix)?);
    let since_epoch = |at: std::time::SystemTime| at.duration_since(std::time::SystemTime::UNIX_EPOCH);
    let second = std::time::Duration::from_secs(1);
    assert!(expires_at <= since_epoch(after)? + tokens::SERVICE_TOKEN_TTL, "a service token lives too long");
    assert!(expires_at + second >= since_epoch(before)? + tokens::SERVICE_TOKEN_TTL, "a service token lives too short");
    let expires = verifier.expires_at(&token)?.expect("a service token expires");
    assert_eq!(expires.duration_since(std::time::UNIX_EPOCH)?.as_secs(), u64::try_from(answer.expires_at_unix)?);
    // The everyday token cannot renew itself (a leaked copy dies with its time), and the
    // credential is good for nothing but renewing.
    let refused = s.grpc().await?.renew_service_token(renew(&token)).await.expect_err("an everyday token");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let mut request = tonic::Request::new(pb::ListRevocationsRequest { after_seq: 0 });
    tokens::grpc::attach(&mut request, &credential, None);
    let refused = s.grpc().await?.list_revocations(request).await.expect_err("a credential");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let (_, user) = s.auth.user_token(tokens::Role::KitchenStaff);
    let refused = s.grpc().await?.renew_service_token(renew(&user)).await.expect_err("a user token");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    s.app.stop().await;
    Ok(())
}
