//! Short strings stored inline (no heap): account numbers, references, operator names.
//!
//! Commands are plain `Copy` values so a batch of thousands never touches the allocator;
//! that is why strings on commands are fixed-capacity byte arrays with a length.

use std::fmt;

use crate::LedgerError;

/// Up to `N` bytes of UTF-8, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineStr<N> {
    pub const EMPTY: Self = InlineStr {
        len: 0,
        bytes: [0; N],
    };

    /// Copies `text` in; `None` when it is longer than `N` bytes.
    pub fn new(text: &str) -> Option<Self> {
        const { assert!(N <= u8::MAX as usize) };
        if text.len() > N {
            return None;
        }
        let mut bytes = [0; N];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Some(InlineStr {
            len: text.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from a &str, truncated nowhere, so always valid UTF-8.
        std::str::from_utf8(self.as_bytes()).expect("inline strings hold UTF-8")
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const ACCOUNT_NO_BYTES_MAX: usize = 32;
pub const REFERENCE_BYTES_MAX: usize = 64;
pub const OPERATOR_BYTES_MAX: usize = 32;

/// An account number: 1–32 characters of `[A-Za-z0-9_-]`, unique in the ledger.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AccountNo(InlineStr<ACCOUNT_NO_BYTES_MAX>);

impl AccountNo {
    pub fn new(text: &str) -> Result<AccountNo, LedgerError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if text.is_empty() || !text.bytes().all(allowed) {
            return Err(LedgerError::InvalidAccountNo(text.to_owned()));
        }
        InlineStr::new(text)
            .map(AccountNo)
            .ok_or_else(|| LedgerError::InvalidAccountNo(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for AccountNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Free-form short user data: a business order number, a memo. Up to 64 bytes, no control
/// characters (they would corrupt statements and CSV exports).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Reference(InlineStr<REFERENCE_BYTES_MAX>);

impl Default for Reference {
    fn default() -> Self {
        Reference::NONE
    }
}

impl Reference {
    pub const NONE: Reference = Reference(InlineStr::EMPTY);

    pub fn new(text: &str) -> Result<Reference, LedgerError> {
        if text.chars().any(char::is_control) {
            return Err(LedgerError::InvalidReference(text.to_owned()));
        }
        InlineStr::new(text)
            .map(Reference)
            .ok_or_else(|| LedgerError::InvalidReference(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Who did it: the operator or API key name that opened an account.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Operator(InlineStr<OPERATOR_BYTES_MAX>);

impl Operator {
    pub const SYSTEM: Operator = Operator(InlineStr {
        len: 6,
        bytes: *b"system\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
    });

    pub fn new(text: &str) -> Result<Operator, LedgerError> {
        if text.is_empty() || text.chars().any(char::is_control) {
            return Err(LedgerError::InvalidOperator(text.to_owned()));
        }
        InlineStr::new(text)
            .map(Operator)
            .ok_or_else(|| LedgerError::InvalidOperator(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_numbers_follow_the_charset_and_length() {
        for good in ["A", "cust-001", "M_9", &"x".repeat(32)] {
            assert_eq!(AccountNo::new(good).unwrap().as_str(), good);
        }
        for bad in ["", "a b", "中文", "a/b", &"x".repeat(33), "a\n"] {
            assert!(AccountNo::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn references_and_operators_are_bounded_and_printable() {
        assert_eq!(Reference::new("订单-42").unwrap().as_str(), "订单-42");
        assert!(Reference::new(&"r".repeat(65)).is_err());
        assert!(Reference::new("a\tb").is_err());
        assert_eq!(Operator::SYSTEM.as_str(), "system");
        assert!(Operator::new("").is_err());
    }
}
