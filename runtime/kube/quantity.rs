//! Kubernetes quantities (`8Gi`, `50G`, `500M`, `1.5Ti`, `10737418240`) as numbers.
//!
//! Needed to compare sizes — a resize must never shrink a volume — and to show
//! usage against capacity. k8s-openapi keeps quantities as strings.

/// The value of a quantity (bytes, for storage), or None if it is not one.
pub fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let multiplier = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
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
        exponent if exponent.starts_with(['e', 'E']) => 10f64.powi(exponent[1..].parse().ok()?),
        _ => return None,
    };
    Some(number * multiplier)
}

/// Bytes of a storage quantity, rounded up.
pub fn bytes(text: &str) -> Option<i64> {
    parse_quantity(text).map(|v| v.ceil() as i64)
}

/// Bytes for people: `8.0 GiB`, `512.0 MiB`.
pub fn human_bytes(bytes: i64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_and_decimal_suffixes() {
        assert_eq!(bytes("8Gi"), Some(8 * 1024 * 1024 * 1024));
        assert_eq!(bytes("50G"), Some(50_000_000_000));
        assert_eq!(bytes("1.5Ki"), Some(1536));
        assert_eq!(bytes("10737418240"), Some(10_737_418_240));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(bytes("lots"), None);
        assert_eq!(bytes("5Xi"), None);
        assert_eq!(bytes(""), None);
    }

    #[test]
    fn shows_bytes_for_people() {
        assert_eq!(human_bytes(8 * 1024 * 1024 * 1024), "8.0 GiB");
        assert_eq!(human_bytes(100), "100 B");
    }
}
