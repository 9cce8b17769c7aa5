//! Who is on the other end of a request: the TCP peer, unless that peer is one of the
//! operator's reverse proxies (`TRUSTED_PROXIES`), in which case the address the proxies
//! recorded in `X-Forwarded-For` (or `X-Real-IP`). Throttles key on this address, so a header
//! from anyone else is ignored: otherwise every request could name a new "client" and escape
//! them.

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The reverse proxies whose forwarding headers are believed: addresses or CIDR blocks.
/// Empty (the default): no header is believed, the TCP peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of addresses (`10.0.0.5`, `::1`) and blocks (`172.16.0.0/12`);
    /// blanks are ignored, anything else is an error naming the entry.
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| anyhow::anyhow!("{entry:?} is neither an IP address nor a CIDR block"))
            })
            .collect::<anyhow::Result<_>>()
            .map(Self)
    }

    /// Whether `address` is one of the proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`. Walks `X-Forwarded-For`
    /// from the right (the hop nearest us) while the hop that wrote each entry is trusted; the
    /// first address a trusted hop vouches for and that is not itself a proxy is the client.
    /// Without `X-Forwarded-For`, a trusted peer's `X-Real-IP`. An entry that is not an
    /// address ends the walk at the last hop that was believed.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = canonical(peer?);
        if !self.trusts(client) {
            return Some(client);
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        if forwarded.is_empty() {
            return Some(headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(address).unwrap_or(client));
        }
        for entry in forwarded.iter().rev() {
            let Some(hop) = address(entry) else { break };
            client = hop;
            if !self.trusts(client) {
                break;
            }
        }
        Some(client)
    }
}

/// An address as a proxy writes it: `203.0.113.7`, `2001:db8::1`, or with a port
/// (`203.0.113.7:5120`, `[2001:db8::1]:5120`).
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>().or_else(|_| text.parse::<SocketAddr>().map(|s| s.ip())).ok().map(canonical)
}

/// IPv4 peers of a dual-stack socket arrive as `::ffff:a.b.c.d`: one spelling per person.
fn canonical(address: IpAddr) -> IpAddr {
    address.to_canonical()
}

/// The client address of `request` as the server's [`TrustedProxies`] see it (`None` only for
/// a request without a peer, which a test may build).
pub fn client_address(request: &HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|peer| peer.ip());
    match request.app_data::<TrustedProxies>() {
        Some(proxies) => proxies.client_address(peer, request.headers()),
        None => peer.map(canonical),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("unwrap: a test address")
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.1"), ("x-real-ip", "198.51.100.2")]);
        let none = TrustedProxies::default();
        assert_eq!(none.client_address(Some(ip("203.0.113.9")), &spoofed), Some(ip("203.0.113.9")));
        let other = TrustedProxies::parse("10.0.0.0/8").expect("valid");
        assert_eq!(other.client_address(Some(ip("203.0.113.9")), &spoofed), Some(ip("203.0.113.9")));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_entries_left_of_it_do_not_count() {
        let proxies = TrustedProxies::parse(" 10.0.0.5, 172.16.0.0/12 ,").expect("valid");
        let peer = Some(ip("10.0.0.5"));
        assert_eq!(
            proxies.client_address(peer, &headers(&[("x-forwarded-for", "203.0.113.9")])),
            Some(ip("203.0.113.9"))
        );
        // The client wrote the first entry itself; the proxy appended the address it saw.
        let chain = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9")]);
        assert_eq!(proxies.client_address(peer, &chain), Some(ip("203.0.113.9")));
        // Two proxies in a row, and a header split over two lines.
        let two = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9"), ("x-forwarded-for", "172.20.0.3")]);
        assert_eq!(proxies.client_address(peer, &two), Some(ip("203.0.113.9")));
        // X-Real-IP when there is no X-Forwarded-For; ports and IPv6 are understood.
        assert_eq!(
            proxies.client_address(peer, &headers(&[("x-real-ip", "203.0.113.9:5120")])),
            Some(ip("203.0.113.9"))
        );
        let v6 = headers(&[("x-forwarded-for", "[2001:db8::1]:443")]);
        assert_eq!(proxies.client_address(peer, &v6), Some(ip("2001:db8::1")));
        // Garbage ends the walk at the proxy itself.
        assert_eq!(proxies.client_address(peer, &headers(&[("x-forwarded-for", "not-an-ip")])), peer);
        // Without any header, the proxy is the client.
        assert_eq!(proxies.client_address(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_entries() {
        let proxies = TrustedProxies::parse("127.0.0.1").expect("valid");
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(proxies.client_address(Some(ip("::ffff:127.0.0.1")), &forwarded), Some(ip("203.0.113.9")));
    }

    #[test]
    fn bad_entries_are_refused_with_their_name() {
        let error = TrustedProxies::parse("10.0.0.1, proxy.internal").expect_err("a host name is refused");
        assert!(error.to_string().contains("proxy.internal"), "{error}");
        assert!(TrustedProxies::parse("").expect("empty is fine").0.is_empty());
    }
}
