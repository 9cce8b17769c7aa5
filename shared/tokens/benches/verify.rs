//! Verification + authorisation cost per request (release build): `cargo bench -p tokens`.
//! Prints one line per case; `ci/bench` records them in `ci/BENCHMARKS.md`.

// A benchmark's output is its result.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};
use tokens::{Access, Role, TokenIssuer, UserClaims};

const ROUNDS: u32 = 2_000;

fn main() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let claims = UserClaims { user_id: uuid::Uuid::new_v4(), username: "chef".into(), role: Role::KitchenStaff };
    let token = issuer.user_token(&claims, Duration::from_secs(3600)).expect("minted").token;
    let read_only = tokens::attenuate(&token, &verifier, r#"check if operation("read");"#).expect("attenuated");
    let access = Access::read("ticket").for_roles(&[Role::KitchenStaff]);
    for (name, token) in [("one block", &token), ("two blocks (attenuated)", &read_only)] {
        let afresh = per_call(|| verifier.authorize_afresh(black_box(token), &access).expect("allowed"));
        println!("token verify+authorize, {name}: {afresh:.1} µs per call");
    }
    let reused = per_call(|| verifier.authorize(black_box(&token), &access).expect("allowed"));
    println!("token decision reused (same token and access within its TTL): {reused:.2} µs per call");
}

/// Microseconds per call of `check`, after a warm-up.
fn per_call<T>(check: impl Fn() -> T) -> f64 {
    for _ in 0..100 {
        black_box(check());
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        black_box(check());
    }
    (started.elapsed() / ROUNDS).as_secs_f64() * 1e6
}
