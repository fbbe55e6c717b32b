//! The API token: generation and comparison.
//!
//! Tokens are 256 random bits from the operating system. Comparison takes the same time whatever
//! the input, so response timing tells an attacker nothing about how much of a guess was right.

use subtle::ConstantTimeEq;

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

/// A new API token: 64 hex characters (256 bits).
pub fn generate() -> String {
    random_hex(32)
}

/// A new call id: 32 hex characters (128 bits).
pub fn call_id() -> String {
    random_hex(16)
}

/// Constant-time comparison of the stored token with what a client sent. An empty stored token
/// never matches, so a half-installed module cannot be opened with an empty header.
pub fn matches(expected: &str, given: &str) -> bool {
    let (e, g) = (expected.trim().as_bytes(), given.trim().as_bytes());
    if e.is_empty() {
        return false;
    }
    // Length is compared first (and leaks only the length, which is public: 64).
    e.len() == g.len() && bool::from(e.ct_eq(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let a = generate();
        assert_eq!(a.len(), 64);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, generate());
        assert_eq!(call_id().len(), 32);
    }

    #[test]
    fn matching() {
        let t = generate();
        assert!(matches(&t, &t));
        assert!(matches(&t, &format!(" {t}\n")));
        assert!(!matches(&t, &t[..63]));
        assert!(!matches(&t, &t.to_uppercase()));
        assert!(!matches(&t, ""));
        assert!(!matches("", ""));
    }
}
