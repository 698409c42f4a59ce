//! Deterministic identifiers: UIDs, random name suffixes, pod-template hashes, IPs.
//!
//! A rehearsal must be reproducible (the same scenario and the same requests give the same
//! names), so nothing here reads the operating system's randomness: every "random" value
//! comes from a counter in the persisted world run through splitmix64.

/// One step of splitmix64: a well-mixed 64-bit value from a counter.
pub fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A UUID-shaped identifier (version 4 layout) from a counter.
pub fn uid(counter: u64) -> String {
    let a = mix(counter);
    let b = mix(a ^ 0x5151_5151);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0x0fff) as u16,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// The alphabet Kubernetes uses for generated names (no vowels, no look-alikes).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A suffix like the `x7k2p` in `langfuse-web-6d4f9c8b7-x7k2p`.
pub fn name_suffix(counter: u64, len: usize) -> String {
    let mut v = mix(counter);
    (0..len)
        .map(|_| {
            let c = SAFE_ALPHABET[(v % SAFE_ALPHABET.len() as u64) as usize];
            v = mix(v);
            c as char
        })
        .collect()
}

/// FNV-1a 32-bit, the hash the Deployment controller uses for `pod-template-hash`.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Encodes a hash the way `rand.SafeEncodeString` does, giving e.g. `6d4f9c8b7`.
pub fn safe_encode(value: u32) -> String {
    value
        .to_string()
        .bytes()
        .map(|b| SAFE_ALPHABET[(b as usize) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// Hash of a JSON value (canonical because serde_json maps are sorted).
pub fn hash_json(value: &serde_json::Value) -> String {
    safe_encode(fnv32a(value.to_string().as_bytes()))
}
