//! Random input against the verifier: whatever a caller sends as a token, and whatever block a
//! holder appends, the verifier answers without panicking, a forged or damaged token never
//! speaks for anyone, and attenuation only ever narrows (a refusal stays a refusal; a grant
//! speaks for the same principal as the original). `ci/fuzz` runs these for minutes.

use super::*;
use proptest::prelude::*;
use std::sync::LazyLock;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);
const KITCHEN_ONLY: &[Role] = &[Role::KitchenStaff];
/// The URL-safe base64 alphabet biscuit tokens are written in.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One root key for every case: minting is cheap, but a key per case would test nothing more.
static ISSUER: LazyLock<TokenIssuer> = LazyLock::new(TokenIssuer::generate);

fn customer() -> (UserClaims, Token) {
    let claims = UserClaims { user_id: uuid::Uuid::from_u128(7), username: "ada".into(), role: Role::Customer };
    let token = ISSUER.user_token(&claims, HOUR).expect("unwrap: minting with a fresh key works").token;
    (claims, token)
}

/// The accesses a platform decides: any user, staff only, services only, one resource.
fn accesses() -> Vec<Access> {
    vec![
        Access::read("order"),
        Access::write("order").of(uuid::Uuid::from_u128(1)),
        Access::write("ticket").for_roles(KITCHEN_ONLY),
        Access::read("revocations").for_services(),
    ]
}

/// Datalog a holder might append, hostile or not: identity claims (which must never count),
/// restrictions (which must always hold), rules, and nonsense.
fn block_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"user("00000000-0000-0000-0000-000000000001");"#.to_owned()),
        Just(r#"role("kitchen_staff");"#.to_owned()),
        Just(r#"service("gateway");"#.to_owned()),
        Just(r#"username("root");"#.to_owned()),
        Just(r#"role("kitchen_staff") <- user($u);"#.to_owned()),
        Just(r#"service("gateway") <- operation($o);"#.to_owned()),
        Just(r#"check if operation("read");"#.to_owned()),
        Just(r#"check if resource("order");"#.to_owned()),
        Just(r#"check if resource_id("00000000-0000-0000-0000-000000000001");"#.to_owned()),
        Just(r#"check if role("kitchen_staff");"#.to_owned()),
        Just(r#"check all operation($o), $o == "read";"#.to_owned()),
        Just("check if time($t), $t < 2000-01-01T00:00:00Z;".to_owned()),
        Just("check if time($t), $t < 2999-01-01T00:00:00Z;".to_owned()),
        Just("check if true;".to_owned()),
        Just("check if false;".to_owned()),
        Just(r#"check if user($u) or service($s);"#.to_owned()),
        Just(r#"allow if true;"#.to_owned()),
        "[a-z_(){}\";$ ]{0,30}",
    ]
}

proptest! {
    #[test]
    fn any_text_as_a_token_is_refused_as_unauthenticated(text in ".{0,400}") {
        let verifier = ISSUER.verifier();
        let token = Token::new(text.as_str());
        for access in accesses() {
            let refused = verifier.authorize_afresh(&token, &access);
            prop_assert!(matches!(refused, Err(TokenError::Invalid)), "{:?}", refused);
        }
        prop_assert!(verifier.lease(&token).is_err());
        prop_assert!(verifier.expires_at(&token).is_err());
        prop_assert!(verifier.revocation_ids(&token).is_err());
        prop_assert_eq!(bearer(&format!("Bearer {text}")).is_some(), !text.trim().is_empty());
    }

    #[test]
    fn a_damaged_token_never_speaks_for_anyone_else(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let (claims, token) = customer();
        let mut text: Vec<u8> = token.as_str().as_bytes().to_vec();
        for (at, with) in edits {
            let i = at.index(text.len());
            text[i] = ALPHABET[with.index(ALPHABET.len())];
        }
        if let Some(cut) = cut {
            text.truncate(cut.index(text.len() + 1));
        }
        let damaged = Token::new(String::from_utf8(text).expect("unwrap: the alphabet is ASCII"));
        let verifier = ISSUER.verifier();
        for access in accesses() {
            if let Ok(principal) = verifier.authorize_afresh(&damaged, &access) {
                prop_assert_eq!(principal, Principal::User(claims.clone()));
            }
        }
    }

    #[test]
    fn attenuation_only_narrows(lines in proptest::collection::vec(block_line(), 1..5)) {
        let (claims, token) = customer();
        let verifier = ISSUER.verifier();
        let Ok(narrowed) = attenuate(&token, &verifier, &lines.join("\n")) else {
            return Ok(()); // Not datalog, or not allowed in a block: refused, nothing minted.
        };
        for access in accesses() {
            let before = verifier.authorize_afresh(&token, &access);
            let after = verifier.authorize_afresh(&narrowed, &access);
            // A run-limit refusal (wall-clock: a starved thread hits it) decides nothing.
            let undecided = |r: &Result<Principal, TokenError>| {
                matches!(r, Err(TokenError::Forbidden(why)) if why == crate::verifier::TOO_COMPLEX)
            };
            if undecided(&before) || undecided(&after) {
                continue;
            }
            match (&before, &after) {
                (Err(_), Ok(_)) => {
                    return Err(TestCaseError::fail(format!("{lines:?} widened {access:?}: {before:?} -> {after:?}")));
                }
                (_, Ok(principal)) => prop_assert_eq!(principal, &Principal::User(claims.clone())),
                (_, Err(_)) => {}
            }
        }
    }

    #[test]
    fn a_revoked_token_stays_refused_whatever_is_appended(lines in proptest::collection::vec(block_line(), 0..4)) {
        let verifier = ISSUER.verifier();
        let (_, token) = customer();
        let narrowed = attenuate(&token, &verifier, &lines.join("\n")).unwrap_or_else(|_| token.clone());
        verifier.revocations().insert_all(verifier.revocation_ids(&token).expect("unwrap: a valid token"));
        for access in accesses() {
            let refused = verifier.authorize(&narrowed, &access);
            prop_assert!(matches!(refused, Err(TokenError::Revoked)), "{:?}", refused);
        }
        prop_assert_eq!(verifier.lease(&narrowed).map(|lease| lease.check()), Ok(Err(TokenError::Revoked)));
    }
}
