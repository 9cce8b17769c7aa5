//! `SignInThrottle`: how often one account may be tried and one client address may try, for
//! logins and registrations, whatever the transport (REST, or GraphQL through the gateway,
//! which forwards the client's address). Token buckets from `governor`, one per key.

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Sign-in attempts on one account: a burst of 5, then one every 12 s (5 a minute). A person
/// who mistypes gets several tries; a guesser gets 300 an hour instead of thousands a second.
pub const ACCOUNT_BURST: u32 = 5;
pub const ACCOUNT_REFILL: Duration = Duration::from_secs(12);
/// Sign-ins and registrations from one client address: a burst of 20, then one every 3 s
/// (20 a minute) — room for a restaurant's shared Wi-Fi, not for a script.
pub const ADDRESS_BURST: u32 = 20;
pub const ADDRESS_REFILL: Duration = Duration::from_secs(3);

/// How many attempts a key gets at once, and how often one more comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub refill: Duration,
}

impl Limit {
    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.refill).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
    }
}

/// The limits per account and per client address (`SIGN_IN_*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub per_account: Limit,
    pub per_address: Limit,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_account: Limit { burst: ACCOUNT_BURST, refill: ACCOUNT_REFILL },
            per_address: Limit { burst: ADDRESS_BURST, refill: ADDRESS_REFILL },
        }
    }
}

/// Refused: ask again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

pub struct SignInThrottle {
    by_account: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self::new(SignInLimits::default())
    }
}

impl SignInThrottle {
    pub fn new(limits: SignInLimits) -> Self {
        Self {
            by_account: RateLimiter::keyed(limits.per_account.quota()),
            by_address: RateLimiter::keyed(limits.per_address.quota()),
            clock: DefaultClock::default(),
        }
    }

    /// One attempt on `account` (a username, in any case; `None` for a registration) from
    /// `address` (when known). Both buckets must have room; the address is checked first so a
    /// flood from one address does not also lock the accounts it tries.
    pub fn attempt(&self, account: Option<&str>, address: Option<IpAddr>) -> Result<(), Throttled> {
        let now = self.clock.now();
        if let Some(address) = address {
            self.by_address.check_key(&address).map_err(|no| Throttled { retry_after: no.wait_time_from(now) })?;
        }
        if let Some(account) = account {
            // Usernames are case-insensitive: `ADA` is the same account as `ada`.
            self.by_account
                .check_key(&account.to_lowercase())
                .map_err(|no| Throttled { retry_after: no.wait_time_from(now) })?;
        }
        Ok(())
    }

    /// Forgets keys whose buckets are full again, so memory follows recent traffic only.
    pub fn forget_idle(&self) {
        self.by_account.retain_recent();
        self.by_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_its_burst_then_waits_whatever_the_address() {
        let throttle = SignInThrottle::default();
        let here = Some(IpAddr::from([192, 0, 2, 1]));
        let there = Some(IpAddr::from([192, 0, 2, 2]));
        for attempt in 0..ACCOUNT_BURST {
            let from = if attempt % 2 == 0 { here } else { there };
            assert_eq!(throttle.attempt(Some("alice"), from), Ok(()), "attempt {attempt}");
        }
        let refused = throttle.attempt(Some("ALICE"), there).expect_err("the sixth attempt in a row, in any case");
        assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= ACCOUNT_REFILL, "{refused:?}");
        assert_eq!(throttle.attempt(Some("bob"), here), Ok(()), "another account is not affected");
    }

    #[test]
    fn an_address_gets_its_burst_across_accounts() {
        let throttle = SignInThrottle::default();
        let flood = Some(IpAddr::from([198, 51, 100, 7]));
        for n in 0..ADDRESS_BURST {
            assert_eq!(throttle.attempt(Some(&format!("user{n}")), flood), Ok(()));
        }
        assert!(throttle.attempt(None, flood).is_err(), "registrations count too");
        assert_eq!(throttle.attempt(None, Some(IpAddr::from([198, 51, 100, 8]))), Ok(()));
        assert_eq!(throttle.attempt(Some("user0"), None), Ok(()), "an unknown address is not limited by it");
    }
}
