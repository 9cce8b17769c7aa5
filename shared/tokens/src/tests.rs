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
fn roles_are_spelled_as_the_api_spells_them_and_read_back() {
    assert_eq!((Role::Customer.as_str(), Role::KitchenStaff.as_str()), ("CUSTOMER", "KITCHEN_STAFF"));
    for role in [Role::Customer, Role::KitchenStaff] {
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::parse("customer"), None);
}

#[test]
fn an_expiry_written_with_at_most_counts_to_the_end_of_its_second() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let in_2103 = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(4_200_000_000);
    let token = issuer.user_token_until(&customer(), in_2103).expect("minted").token;
    let until = attenuate(&token, &verifier, "check if time($t), $t <= 2100-01-01T00:00:00Z;").expect("attenuated");
    let in_2100 = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800);
    assert_eq!(verifier.expires_at(&until), Ok(Some(in_2100 + Duration::from_secs(1))));
    let lease = verifier.lease(&until).expect("a lease");
    assert_eq!(lease.expires_at(), Some(in_2100 + Duration::from_secs(1)));
    // A check that holds another way too ("or") is no deadline for a lease.
    let either = attenuate(&token, &verifier, r#"check if time($t), $t < 2000-01-01T00:00:00Z or operation("read");"#)
        .expect("attenuated");
    assert_eq!(verifier.lease(&either).expect("a lease").expires_at(), Some(in_2103));
    assert_eq!(verifier.lease(&either).expect("a lease").check(), Ok(()));
    assert_eq!(verifier.expires_at(&either), Ok(Some(in_2103)));
    // Nor is a rejection before a date: it refuses the token until then, not after.
    let rejecting = attenuate(&token, &verifier, "reject if time($t), $t < 2000-01-01T00:00:00Z;").expect("attenuated");
    assert_eq!(verifier.lease(&rejecting).expect("a lease").expires_at(), Some(in_2103));
    assert_eq!(verifier.expires_at(&rejecting), Ok(Some(in_2103)));
}

#[test]
fn a_decision_is_reused_but_never_for_another_token_or_access() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let kitchen = Access::write("ticket").for_roles(KITCHEN_ONLY);
    let chef = issuer.user_token(&staff(), HOUR).expect("minted").token;
    let customer = issuer.user_token(&customer(), HOUR).expect("minted").token;
    assert!(verifier.authorize(&chef, &kitchen).is_ok());
    assert!(matches!(verifier.authorize(&customer, &kitchen), Err(TokenError::Forbidden(_))));
    let one_order = attenuate(&chef, &verifier, r#"check if resource_id("o-1");"#).expect("attenuated");
    assert!(verifier.authorize(&one_order, &Access::read("order").of("o-1")).is_ok());
    assert!(verifier.authorize(&one_order, &Access::read("order").of("o-2")).is_err());
    assert!(matches!(verifier.authorize(&chef, &kitchen.clone().for_services()), Err(TokenError::Forbidden(_))));
    // Reused (granted) decisions still see a revocation.
    verifier.revocations().insert_all(verifier.revocation_ids(&chef).expect("ids"));
    assert_eq!(verifier.authorize(&chef, &kitchen), Err(TokenError::Revoked));
    assert_eq!(verifier.authorize_afresh(&chef, &kitchen), Err(TokenError::Revoked));
    assert!(!verifier.revocations().is_empty());
}

#[test]
fn refusals_say_who_are_you_or_not_you() {
    for unauthenticated in [
        TokenError::Missing,
        TokenError::Invalid,
        TokenError::Expired,
        TokenError::Revoked,
        TokenError::Attenuation("x".into()),
    ] {
        assert!(unauthenticated.is_unauthenticated(), "{unauthenticated:?}");
    }
    for other in [TokenError::Forbidden("x".into()), TokenError::BadKey, TokenError::Mint("x".into())] {
        assert!(!other.is_unauthenticated(), "{other:?}");
    }
    assert_eq!(service_kit::Classified::kind(&TokenError::BadKey), service_kit::ErrorKind::Unexpected);
}

/// Tokens on gRPC metadata, as services exchange them.
mod over_grpc {
    use super::*;
    use crate::grpc::{USER_TOKEN, attach, calling_service, calling_service_or_user, calling_user};

    fn request(service: Option<&Token>, user: Option<&Token>) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        match service {
            Some(service) => attach(&mut request, service, user),
            None => {
                if let Some(user) = user {
                    let value = format!("Bearer {}", user.as_str()).parse().expect("unwrap: a token is ASCII");
                    request.metadata_mut().insert(USER_TOKEN, value);
                }
            }
        }
        request
    }

    #[test]
    fn a_service_is_named_by_its_token_and_may_be_limited_to_some_callers() {
        let issuer = TokenIssuer::generate();
        let verifier = issuer.verifier();
        let gateway = issuer.service_token("gateway", HOUR).expect("minted").token;
        let metadata = request(Some(&gateway), None).into_parts().0;
        assert_eq!(calling_service(&metadata, &verifier, &Access::read("order")).ok(), Some("gateway".to_owned()));
        let gateway_only = Access::read("order").from_services(&["gateway"]);
        assert_eq!(calling_service(&metadata, &verifier, &gateway_only).ok(), Some("gateway".to_owned()));
        let kitchen_only = Access::read("order").from_services(&["kitchen"]);
        let refused = calling_service(&metadata, &verifier, &kitchen_only).expect_err("not the kitchen");
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);

        let missing = calling_service(&request(None, None).into_parts().0, &verifier, &Access::read("order"))
            .expect_err("no token");
        assert_eq!(missing.code(), tonic::Code::Unauthenticated);
        let chef = issuer.user_token(&staff(), HOUR).expect("minted").token;
        let user_as_service =
            calling_service(&request(Some(&chef), None).into_parts().0, &verifier, &Access::read("order"))
                .expect_err("a user token is not a service token");
        assert_eq!(user_as_service.code(), tonic::Code::PermissionDenied);
        let mut garbled = tonic::Request::new(());
        garbled.metadata_mut().insert("authorization", "Basic abc".parse().expect("unwrap: ASCII"));
        let garbled =
            calling_service(&garbled.into_parts().0, &verifier, &Access::read("order")).expect_err("not Bearer");
        assert_eq!(garbled.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn a_call_on_a_users_behalf_carries_both_tokens_and_the_users_rules_apply() {
        let issuer = TokenIssuer::generate();
        let verifier = issuer.verifier();
        let gateway = issuer.service_token("gateway", HOUR).expect("minted").token;
        let (ada, chef) = (customer(), staff());
        let ada_token = issuer.user_token(&ada, HOUR).expect("minted").token;
        let chef_token = issuer.user_token(&chef, HOUR).expect("minted").token;
        let kitchen = Access::write("ticket").for_roles(KITCHEN_ONLY);

        let as_chef = request(Some(&gateway), Some(&chef_token)).into_parts().0;
        assert_eq!(calling_user(&as_chef, &verifier, &kitchen).ok(), Some((chef.clone(), chef_token)));
        let as_ada = request(Some(&gateway), Some(&ada_token)).into_parts().0;
        assert_eq!(
            calling_user(&as_ada, &verifier, &kitchen).expect_err("a customer").code(),
            tonic::Code::PermissionDenied
        );
        // The user's token alone is not enough: a service must vouch for the call.
        let no_service = request(None, Some(&ada_token)).into_parts().0;
        assert_eq!(
            calling_user(&no_service, &verifier, &Access::read("order")).expect_err("no service").code(),
            tonic::Code::Unauthenticated
        );
        let no_user = request(Some(&gateway), None).into_parts().0;
        assert_eq!(
            calling_user(&no_user, &verifier, &Access::read("order")).expect_err("no user").code(),
            tonic::Code::Unauthenticated
        );
        let service_as_user = request(Some(&gateway), Some(&gateway)).into_parts().0;
        assert_eq!(
            calling_user(&service_as_user, &verifier, &Access::read("order").for_services())
                .expect_err("a service token is not a user's")
                .code(),
            tonic::Code::PermissionDenied
        );

        // Either: a user when one is forwarded, else the service on its own account.
        assert_eq!(calling_service_or_user(&as_ada, &verifier, &Access::read("order")).ok(), Some(Some(ada)));
        assert_eq!(calling_service_or_user(&no_user, &verifier, &Access::read("order")).ok(), Some(None));
        assert_eq!(
            calling_service_or_user(&as_chef, &verifier, &Access::read("order").for_roles(&[Role::Customer]))
                .expect_err("the user's rules apply")
                .code(),
            tonic::Code::PermissionDenied
        );
    }
}

#[test]
fn a_refusal_says_which_rule_refused() {
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let customer = issuer.user_token(&customer(), HOUR).expect("minted").token;
    let kitchen = Access::write("ticket").for_roles(KITCHEN_ONLY);
    let forbidden = |token: &Token, access: &Access| match verifier.authorize_afresh(token, access) {
        Err(TokenError::Forbidden(why)) => why,
        other => panic!("not forbidden: {other:?}"),
    };
    assert_eq!(forbidden(&customer, &kitchen), "the caller's role may not do this");
    let read_only = attenuate(&customer, &verifier, r#"check if operation("read");"#).expect("attenuated");
    assert_eq!(forbidden(&read_only, &Access::write("order")), "a restriction on the token forbids it");
    // A block whose rule makes more facts than the authorizer derives (40 × 40 pairs):
    // refused, not evaluated at length.
    let facts: String = (0..40).map(|i| format!("f({i}); ")).collect();
    let heavy = attenuate(&customer, &verifier, &format!("{facts} pair($x, $y) <- f($x), f($y);")).expect("attenuated");
    assert_eq!(forbidden(&heavy, &Access::read("order")), "the token is too complex to evaluate");
}

#[tokio::test]
async fn a_leases_end_is_awaited_not_polled() {
    use futures::FutureExt as _;
    let issuer = TokenIssuer::generate();
    let verifier = issuer.verifier();
    let issued = issuer.user_token(&staff(), HOUR).expect("minted");
    let mut ended = Box::pin(verifier.lease(&issued.token).expect("a lease").ended());
    assert_eq!(ended.as_mut().now_or_never(), None, "a valid token has not ended");
    // Another token's revocation wakes the lease, which finds its own token still good.
    let other = issuer.user_token(&staff(), HOUR).expect("minted");
    verifier.revocations().insert_all(other.revocation_ids);
    assert_eq!(ended.as_mut().now_or_never(), None, "someone else's logout ends nothing");
    verifier.revocations().insert_all(issued.revocation_ids);
    assert_eq!(ended.await, TokenError::Revoked);

    // Expiry: the lease sleeps until the token's own deadline (whole seconds), and not past it.
    let soon = std::time::SystemTime::now() + Duration::from_secs(2);
    let short = issuer.user_token_until(&staff(), soon).expect("minted").token;
    let lease = verifier.lease(&short).expect("a lease");
    let deadline = lease.expires_at().expect("it expires");
    assert_eq!(lease.check(), Ok(()));
    assert_eq!(lease.ended().await, TokenError::Expired);
    assert!(std::time::SystemTime::now() >= deadline, "ended before the token's deadline");
    assert_eq!(lease.check(), Err(TokenError::Expired));
}

#[test]
fn a_revocation_list_counts_what_it_holds() {
    let list = RevocationList::default();
    assert!(list.is_empty());
    assert_eq!(list.len(), 0);
    list.insert_all(["a".to_owned(), "b".to_owned(), "a".to_owned()]);
    assert_eq!(list.len(), 2);
    assert!(!list.is_empty());
    assert!(list.contains_any(&["x".to_owned(), "b".to_owned()]));
    assert!(!list.contains_any(&["x".to_owned()]));
}

#[test]
fn a_revocation_list_tells_its_waiters_when_it_grows_and_only_then() {
    use futures::FutureExt as _;
    let list = RevocationList::default();
    list.insert_all(["a".to_owned()]);
    let grown = list.grown();
    // Ids it already holds add nothing: no waiter wakes for them.
    list.insert_all(["a".to_owned()]);
    let mut grown = Box::pin(grown);
    assert_eq!(grown.as_mut().now_or_never(), None, "nothing was added");
    list.clone().insert_all(["b".to_owned()]);
    assert_eq!(grown.now_or_never(), Some(()), "a new id, through any clone of the list");
    assert_eq!(list.grown().now_or_never(), None, "a new waiter waits for the next addition");
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
