//! Kubernetes resource quantities (`50Gi`, `500M`, `1.5Gi`, `100m`) as numbers, for
//! comparing PVC sizes and reporting volume capacity in bytes.

/// The value of a quantity in base units (bytes for storage), or None when malformed.
pub fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(n * factor)
}

/// Bytes of a storage quantity, rounded up.
pub fn parse_bytes(text: &str) -> Option<u64> {
    parse_quantity(text).map(|v| v.ceil().max(0.0) as u64)
}

/// The quantity in a JSON value (string or number).
pub fn value_bytes(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::String(s) => parse_bytes(s),
        serde_json::Value::Number(n) => n.as_f64().map(|f| f.ceil() as u64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_and_decimal_suffixes() {
        assert_eq!(parse_bytes("8Gi"), Some(8 * 1024 * 1024 * 1024));
        assert_eq!(parse_bytes("1.5Gi"), Some(1610612736));
        assert_eq!(parse_bytes("10G"), Some(10_000_000_000));
        assert_eq!(parse_bytes("100"), Some(100));
        assert_eq!(parse_bytes("abc"), None);
    }
}
