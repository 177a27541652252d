//! `stockpilot healthcheck`: a dependency-free HTTP GET for container HEALTHCHECKs.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::Context;

/// The URL probed when none is given: the configured port on loopback.
pub fn default_url(host: &str, port: u16) -> String {
    let host = match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" | "[::]" => "[::1]",
        other => other,
    };
    format!("http://{host}:{port}/health")
}

/// GETs `url` and returns the HTTP status code.
///
/// # Errors
/// A non-http URL, a refused connection or no answer within `timeout`.
pub fn probe(url: &str, timeout: Duration) -> anyhow::Result<u16> {
    let rest = url
        .strip_prefix("http://")
        .context("only http:// URLs can be probed")?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let addr = authority
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {authority}"))?
        .next()
        .with_context(|| format!("no address for {authority}"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("cannot connect to {authority}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nUser-Agent: stockpilot-healthcheck\r\n\r\n"
    )?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).context("no answer")?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| {
            format!(
                "not an HTTP answer: {}",
                line.lines().next().unwrap_or_default()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_loopback_when_listening_on_all_interfaces() {
        assert_eq!(default_url("0.0.0.0", 8080), "http://127.0.0.1:8080/health");
        assert_eq!(default_url("::", 9), "http://[::1]:9/health");
        assert_eq!(default_url("10.1.2.3", 9), "http://10.1.2.3:9/health");
    }

    #[test]
    fn a_closed_port_is_an_error_not_a_hang() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        assert!(
            probe(
                &format!("http://127.0.0.1:{port}/health"),
                Duration::from_secs(1)
            )
            .is_err()
        );
    }
}
