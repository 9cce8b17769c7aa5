//! Minting, verifying, attenuating and revoking tokens, with real keys.

use super::*;
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn customer() -> UserClaims {
    UserClaims { user_id: uuid::Uuid::new_v4(), username: "ada".into(), role: Role::Customer }
}

fn staff() -> UserClaims {
    UserClaims { user_id: uuid::Uuid::new_v4(), username: "chef".into(), role: Role::KitchenStaff }
}

const KITCHEN_ONLY: &[Role] = &[Role::KitchenStaff];

#[test]
fn a_user_token_proves_who_its_holder_is() {
    let issuer = TokenIssuer::generate();
    let claims = customer();
    let token = issuer.user_token(&claims, HOUR).expect("minted").token;
    let verifier = TokenVerifier::from_public_key_hex(&issuer.public_key_hex()).expect("a public key");
    assert_eq!(verifier.authorize(&token, &Access::read("order")), Ok(Principal::User(claims)));
}

#[test]
fn roles_decide_what_a_user_may_do() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let kitchen_write = Access::write("ticket").for_roles(KITCHEN_ONLY);
    let customer = issuer.user_token(&customer(), HOUR).expect("minted").token;
    let chef = issuer.user_token(&staff(), HOUR).expect("minted").token;
    assert!(matches!(verifier.authorize(&customer, &kitchen_write), Err(TokenError::Forbidden(_))));
    assert!(verifier.authorize(&chef, &kitchen_write).is_ok());
    assert!(matches!(verifier.authorize(&chef, &Access::read("x").for_services()), Err(TokenError::Forbidden(_))));
}

#[test]
fn expired_foreign_malformed_and_revoked_tokens_are_refused() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let read = Access::read("order");
    let a_minute_ago = std::time::SystemTime::now() - Duration::from_secs(60);
    let expired = issuer.user_token_until(&customer(), a_minute_ago).expect("minted").token;
    assert_eq!(verifier.authorize(&expired, &read), Err(TokenError::Expired));

    let foreign = TokenIssuer::generate().user_token(&customer(), HOUR).expect("minted").token;
    assert_eq!(verifier.authorize(&foreign, &read), Err(TokenError::Invalid));
    assert_eq!(verifier.authorize(&Token::new("not a token"), &read), Err(TokenError::Invalid));

    let issued = issuer.user_token(&customer(), HOUR).expect("minted");
    assert!(verifier.authorize(&issued.token, &read).is_ok());
    verifier.revocations().insert_all(issued.revocation_ids.clone());
    assert_eq!(verifier.authorize(&issued.token, &read), Err(TokenError::Revoked));
    assert_eq!(verifier.revocation_ids(&issued.token), Ok(issued.revocation_ids));
}

#[test]
fn an_attenuated_token_can_only_do_less() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let chef = issuer.user_token(&staff(), HOUR).expect("minted").token;
    let read_only = attenuate(&chef, &verifier, r#"check if operation("read");"#).expect("attenuated");
    assert!(verifier.authorize(&read_only, &Access::read("ticket").for_roles(KITCHEN_ONLY)).is_ok());
    assert!(matches!(
        verifier.authorize(&read_only, &Access::write("ticket").for_roles(KITCHEN_ONLY)),
        Err(TokenError::Forbidden(_))
    ));
    let one_order = attenuate(&chef, &verifier, r#"check if resource_id("o-1");"#).expect("attenuated");
    assert!(verifier.authorize(&one_order, &Access::read("order").of("o-1")).is_ok());
    assert!(verifier.authorize(&one_order, &Access::read("order").of("o-2")).is_err());
}

#[test]
fn a_block_appended_by_the_holder_cannot_grant_a_role() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let token = issuer.user_token(&customer(), HOUR).expect("minted").token;
    let forged = attenuate(&token, &verifier, r#"role("kitchen_staff");"#).expect("appended");
    let kitchen = Access::write("ticket").for_roles(KITCHEN_ONLY);
    assert!(matches!(verifier.authorize(&forged, &kitchen), Err(TokenError::Forbidden(_))));
}

#[test]
fn service_tokens_name_the_service() {
    let issuer = TokenIssuer::generate();
    let token = issuer.service_token("gateway", HOUR).expect("minted").token;
    let verifier = issuer.verifier();
    assert_eq!(
        verifier.authorize(&token, &Access::read("order").for_services()),
        Ok(Principal::Service("gateway".into()))
    );
    assert!(verifier.authorize(&token, &Access::read("order")).is_err(), "a service is not a user");
}

#[test]
fn keys_round_trip_through_hex_and_tokens_stay_out_of_debug_output() {
    let issuer = TokenIssuer::generate();
    let again = TokenIssuer::from_private_key_hex(issuer.private_key_hex().expose()).expect("a private key");
    assert_eq!(again.public_key_hex(), issuer.public_key_hex());
    assert_eq!(TokenIssuer::from_private_key_hex("zz").err(), Some(TokenError::BadKey));
    let token = issuer.user_token(&customer(), HOUR).expect("minted").token;
    assert!(!format!("{token:?}").contains(token.as_str()));
    assert_eq!(bearer("Bearer abc"), Some(Token::new("abc")));
    assert_eq!(bearer("bearer  abc "), Some(Token::new("abc")));
    assert_eq!(bearer("Basic abc"), None);
    assert_eq!(bearer("Bearer "), None);
}

#[test]
fn a_lease_ends_when_its_token_is_revoked_or_expires() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let in_an_hour = std::time::SystemTime::now() + HOUR;
    let issued = issuer.user_token_until(&staff(), in_an_hour).expect("minted");
    let lease = verifier.lease(&issued.token).expect("a lease");
    assert_eq!(lease.check(), Ok(()));
    let secs = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    assert_eq!(lease.expires_at().map(secs), Some(secs(in_an_hour)), "the issuer's expiry");
    verifier.revocations().insert_all(issued.revocation_ids.clone());
    assert_eq!(lease.check(), Err(TokenError::Revoked));

    let a_minute_ago = std::time::SystemTime::now() - Duration::from_secs(60);
    let expired = issuer.user_token_until(&staff(), a_minute_ago).expect("minted").token;
    assert_eq!(verifier.lease(&expired).expect("a lease").check(), Err(TokenError::Expired));

    // A holder's earlier deadline counts too.
    let chef = issuer.user_token(&staff(), HOUR).expect("minted").token;
    let short = attenuate(&chef, &verifier, "check if time($t), $t < 2020-01-01T00:00:00Z;").expect("attenuated");
    assert_eq!(verifier.lease(&short).expect("a lease").check(), Err(TokenError::Expired));
    assert_eq!(verifier.lease(&Token::new("not a token")).map(|_| ()), Err(TokenError::Invalid));
}

#[test]
fn a_token_says_when_it_expires_and_an_attenuation_can_bring_that_forward() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(4_200_000_000);
    let token = issuer.user_token_until(&customer(), at).expect("minted").token;
    assert_eq!(verifier.expires_at(&token), Ok(Some(at)));
    let sooner = attenuate(&token, &verifier, "check if time($t), $t < 2100-01-01T00:00:00Z;").expect("attenuated");
    let in_2100 = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800);
    assert_eq!(verifier.expires_at(&sooner), Ok(Some(in_2100)));
    let service = issuer.service_token("gateway", HOUR).expect("minted").token;
    assert!(verifier.expires_at(&service).is_ok_and(|at| at.is_some()));
    assert_eq!(verifier.expires_at(&Token::new("not a token")), Err(TokenError::Invalid));
}

#[test]
fn a_service_credential_only_renews_and_only_a_credential_renews() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let credential = issuer.service_credential("kitchen", HOUR).expect("minted").token;
    let everyday = issuer.service_token("kitchen", HOUR).expect("minted").token;
    let user = issuer.user_token(&staff(), HOUR).expect("minted").token;
    let renew = Access::renew_service_token();
    assert_eq!(verifier.authorize(&credential, &renew), Ok(Principal::Service("kitchen".into())));
    // A credential is refused for everything else, as a restriction (not as an expiry).
    let refused = verifier.authorize(&credential, &Access::read("order").for_services());
    assert!(matches!(refused, Err(TokenError::Forbidden(_))), "{refused:?}");
    // An everyday service token, a user token, or a holder's claim cannot renew.
    assert!(matches!(verifier.authorize(&everyday, &renew), Err(TokenError::Forbidden(_))));
    assert!(matches!(verifier.authorize(&user, &renew), Err(TokenError::Forbidden(_))));
    let claimed = attenuate(&everyday, &verifier, r#"service_credential("kitchen");"#).expect("appended");
    assert!(matches!(verifier.authorize(&claimed, &renew), Err(TokenError::Forbidden(_))));
    assert!(verifier.authorize(&everyday, &Access::read("order").for_services()).is_ok());
    // An expired credential says so.
    let expired = issuer.service_credential("kitchen", Duration::ZERO).expect("minted").token;
    assert_eq!(verifier.authorize(&expired, &renew), Err(TokenError::Expired));
}
