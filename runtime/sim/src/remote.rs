//! A minimal HTTP/1.1 client for the loopback control API (`/_sim/…`) of a `sim serve`
//! running in another process. Plain HTTP on 127.0.0.1 only, so a few lines over a TCP
//! stream do, without pulling an HTTP client library into the crate.

use crate::error::SimError;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one request to `base` (e.g. `http://127.0.0.1:6443`); returns status and body.
pub async fn request(
    base: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), SimError> {
    let url = format!("{base}{path_and_query}");
    let fail = |m: String| SimError::Remote {
        url: url.clone(),
        message: m,
    };
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lfrun-sim\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| fail(e.to_string()))?;
        stream
            .write_all(body)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok::<Vec<u8>, SimError>(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .map_err(|_| fail("timed out".into()))??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| fail("malformed response".into()))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail("malformed status line".into()))?;
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}

/// Whether the API server at `base` answers `/healthz`.
pub async fn healthy(base: &str) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_secs(2),
            request(base, "GET", "/healthz", b"")
        )
        .await,
        Ok(Ok((200, _)))
    )
}
