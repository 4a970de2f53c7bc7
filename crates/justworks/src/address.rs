//! Which addresses a connection may reach (issue #11.9). An account admin sets an
//! integration's base URL, and the stored token is sent there: Roster must not become
//! a way into the network it runs in.
//!
//! - Always refused: link-local (169.254.0.0/16 with the cloud metadata address,
//!   fe80::/10), multicast, unspecified (0.0.0.0/8, ::) and broadcast addresses, and
//!   the IPv6 forms of those (IPv4-mapped), plus AWS's IPv6 metadata address.
//! - Refused unless [`UrlPolicy::allow_private`]: loopback (127.0.0.0/8, ::1) and
//!   private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). The embedded
//!   single-account directory allows them (a sandbox on 127.0.0.1); a shared
//!   deployment does not, unless its operator says so.
//!
//! Enforced in one place, the HTTP client every request goes through: IP-literal
//! hosts are checked before a request is built ([`check_url`]), names after DNS
//! resolution ([`PolicyResolver`] keeps only allowed addresses), and every redirect
//! target again ([`redirect_policy`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Where connections may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UrlPolicy {
    /// Loopback and private addresses are allowed (a single-account deployment, or
    /// an operator's explicit choice).
    pub allow_private: bool,
}

impl Default for UrlPolicy {
    /// Private addresses allowed: the embedded single-account directory, the demo
    /// and the tests against a local sandbox. Shared deployments pass
    /// [`UrlPolicy::public_only`].
    fn default() -> Self {
        Self {
            allow_private: true,
        }
    }
}

impl UrlPolicy {
    pub const fn public_only() -> Self {
        Self {
            allow_private: false,
        }
    }
}

/// A URL or address the policy refuses. The message names the kind of address,
/// never what answers there.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AddressRefused(pub String);

/// Why `ip` is refused under `policy`, if it is.
pub fn refusal(ip: IpAddr, policy: UrlPolicy) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4, policy),
        IpAddr::V6(v6) => refusal_v6(v6, policy),
    }
}

fn refusal_v4(ip: Ipv4Addr, policy: UrlPolicy) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        return Some("the cloud metadata address");
    }
    if ip.is_link_local() {
        return Some("a link-local address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    if ip.is_broadcast() {
        return Some("the broadcast address");
    }
    if a == 0 {
        return Some("an unspecified address");
    }
    if policy.allow_private {
        return None;
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // 100.64.0.0/10: carrier-grade NAT, private in practice.
    if ip.is_private() || (a == 100 && (b & 0xc0) == 64) {
        return Some("a private address");
    }
    None
}

fn refusal_v6(ip: Ipv6Addr, policy: UrlPolicy) -> Option<&'static str> {
    let first = ip.segments()[0];
    // AWS's IPv6 instance metadata endpoint.
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("the cloud metadata address");
    }
    if (first & 0xffc0) == 0xfe80 {
        return Some("a link-local address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if policy.allow_private {
        return None;
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // fc00::/7 unique local, fec0::/10 the old site-local.
    if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfec0 {
        return Some("a private address");
    }
    None
}

fn refused(what: &str, reason: &str, policy: UrlPolicy) -> AddressRefused {
    let hint = if policy.allow_private {
        ""
    } else {
        " (a shared deployment refuses loopback and private addresses unless the operator \
         sets allow_private_source_urls)"
    };
    AddressRefused(format!(
        "{what} is {reason}, which Roster does not connect to{hint}"
    ))
}

/// Check what can be checked without a lookup: the scheme, and a host that is an IP
/// address. Names are checked when they are resolved ([`PolicyResolver`]).
pub fn check_url(url: &Url, policy: UrlPolicy) -> Result<(), AddressRefused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(AddressRefused(format!(
            "the source URL must be http or https, not {}",
            url.scheme()
        )));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) => return Ok(()),
        None => return Err(AddressRefused("the source URL has no host".into())),
    };
    match refusal(ip, policy) {
        Some(reason) => Err(refused("the source URL's host", reason, policy)),
        None => Ok(()),
    }
}

/// Check a URL completely, resolving its host name: what `roster connect` and the
/// API do before storing a base URL. Unresolvable names pass (they may resolve
/// later; the connection is checked again then).
pub async fn check_url_resolved(url: &Url, policy: UrlPolicy) -> Result<(), AddressRefused> {
    check_url(url, policy)?;
    let Some(Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let Ok(addrs) = tokio::net::lookup_host((name, port)).await else {
        return Ok(());
    };
    let addrs: Vec<SocketAddr> = addrs.collect();
    if let Some(reason) = addrs.iter().find_map(|a| refusal(a.ip(), policy)) {
        return Err(refused("the source URL's host resolves to", reason, policy));
    }
    Ok(())
}

/// A DNS resolver that keeps only the addresses the policy allows; a name with none
/// left fails to resolve with [`AddressRefused`].
#[derive(Clone, Copy, Debug)]
pub struct PolicyResolver {
    pub policy: UrlPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut reason = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match refusal(a.ip(), policy) {
                    Some(r) => {
                        reason.get_or_insert(r);
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                let reason = reason.unwrap_or("not resolvable");
                return Err(
                    Box::new(refused("the source URL's host resolves to", reason, policy))
                        as Box<dyn std::error::Error + Send + Sync>,
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Follow up to 10 redirects, each to a URL [`check_url`] accepts (a redirect to a
/// name is checked again when it is resolved).
pub fn redirect_policy(policy: UrlPolicy) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 10 {
            return attempt.error("too many redirects");
        }
        match check_url(attempt.url(), policy) {
            Ok(()) => attempt.follow(),
            Err(e) => attempt.error(e),
        }
    })
}

/// The resolver, shared.
pub(crate) fn resolver(policy: UrlPolicy) -> Arc<PolicyResolver> {
    Arc::new(PolicyResolver { policy })
}

/// The refusal inside a reqwest error, if that is what stopped it.
pub(crate) fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<AddressRefused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(r) = e.downcast_ref::<AddressRefused>() {
            return Some(r.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn always_refused_whatever_the_policy() {
        for policy in [UrlPolicy::default(), UrlPolicy::public_only()] {
            for a in [
                "169.254.169.254",
                "169.254.1.1",
                "fe80::1",
                "224.0.0.1",
                "ff02::1",
                "0.0.0.0",
                "::",
                "255.255.255.255",
                "::ffff:169.254.169.254",
                "fd00:ec2::254",
            ] {
                assert!(
                    refusal(ip(a), policy).is_some(),
                    "{a} allowed by {policy:?}"
                );
            }
        }
    }

    #[test]
    fn private_and_loopback_only_when_allowed() {
        for a in [
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd12::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(refusal(ip(a), UrlPolicy::default()), None, "{a}");
            assert!(refusal(ip(a), UrlPolicy::public_only()).is_some(), "{a}");
        }
        for a in ["8.8.8.8", "2606:4700::1111", "172.32.0.1", "100.128.0.1"] {
            assert_eq!(refusal(ip(a), UrlPolicy::public_only()), None, "{a}");
        }
    }

    #[test]
    fn urls_are_checked_by_scheme_and_literal_host() {
        let url = |s: &str| Url::parse(s).unwrap();
        let open = UrlPolicy::default();
        assert!(check_url(&url("http://127.0.0.1:8899/"), open).is_ok());
        assert!(check_url(&url("https://public-api.justworks.com"), open).is_ok());
        let err = check_url(&url("http://169.254.169.254/latest/"), open).unwrap_err();
        assert!(err.0.contains("cloud metadata"), "{err}");
        assert!(check_url(&url("http://[::]:80/"), open).is_err());
        assert!(check_url(&url("ftp://example.com/"), open).is_err());
        let err = check_url(&url("http://127.0.0.1:8899/"), UrlPolicy::public_only()).unwrap_err();
        assert!(err.0.contains("loopback"), "{err}");
        assert!(err.0.contains("allow_private_source_urls"), "{err}");
    }
}
