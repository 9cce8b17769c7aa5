//! Verification + authorisation cost per request (release build): `cargo bench -p tokens`.
//! Prints one line per case; `ci/bench` records them in `ci/BENCHMARKS.md`.

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
        // Warm up, then measure.
        for _ in 0..100 {
            verifier.authorize(token, &access).expect("allowed");
        }
        let started = Instant::now();
        for _ in 0..ROUNDS {
            black_box(verifier.authorize(black_box(token), &access).expect("allowed"));
        }
        let per_call = started.elapsed() / ROUNDS;
        println!("token verify+authorize, {name}: {:.1} µs per call", per_call.as_secs_f64() * 1e6);
    }
}
