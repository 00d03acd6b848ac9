//! DFIDs, the global item ids: `DFID-YYYYMMDD-NNNNNN-CHK`.
//!
//! The sequence restarts each UTC day, has at least six digits, and comes from a counter in the
//! database (unique across replicas, gaps allowed). CHK is the uppercase hex of `h % 0xFFFF`
//! without leading zeros, where `h` is a wrapping u32 updated `h = h*31 + byte` over the ASCII of
//! date+sequence, as the original system issued them.

use std::fmt;

use chrono::NaiveDate;

use crate::domain::Error;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dfid(String);

fn checksum(date_and_sequence: &str) -> String {
    let h = date_and_sequence
        .bytes()
        .fold(0_u32, |h, byte| h.wrapping_mul(31).wrapping_add(u32::from(byte)));
    format!("{:X}", h % 0xFFFF)
}

/// What every DFID looks like, as a regular expression, for the spec (`Dfid::parse` also checks
/// the date and the checksum).
pub const DFID_PATTERN: &str = "^DFID-[0-9]{8}-[0-9]{6,}-[0-9A-F]{1,4}$";

impl Dfid {
    pub fn new(date: NaiveDate, sequence: u64) -> Self {
        let date = date.format("%Y%m%d").to_string();
        let sequence = format!("{sequence:06}");
        let check = checksum(&format!("{date}{sequence}"));
        Self(format!("DFID-{date}-{sequence}-{check}"))
    }

    /// Valid only if it equals the DFID rebuilt from its date and sequence (400 `invalid_dfid`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = || Error::invalid("invalid_dfid", format!("{text:?} is not a valid DFID"));
        if text.len() > 64 {
            return Err(invalid());
        }
        let mut parts = text.split('-');
        let (Some("DFID"), Some(date), Some(sequence), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| invalid())?;
        if sequence.len() < 6 || !sequence.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let sequence: u64 = sequence.parse().map_err(|_| invalid())?;
        let rebuilt = Self::new(date, sequence);
        if rebuilt.0 == text { Ok(rebuilt) } else { Err(invalid()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Dfid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dfid_matches_the_spec_pattern() {
        let pattern = regex::Regex::new(DFID_PATTERN).unwrap();
        for sequence in (0..5_000).chain([999_999, 1_000_000, 123_456_789]) {
            let dfid = Dfid::new(day(2026, 11, 26), sequence);
            assert!(pattern.is_match(dfid.as_str()), "{dfid:?}");
        }
        assert!(!pattern.is_match("dfid-20261126-000001-FF10"));
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn known_answers() {
        assert_eq!(Dfid::new(day(2026, 11, 26), 1).as_str(), "DFID-20261126-000001-FF10");
        assert_eq!(Dfid::new(day(2026, 11, 26), 500).as_str(), "DFID-20261126-000500-11D5");
        assert_eq!(
            Dfid::new(day(2027, 1, 1), 1_000_000).as_str(),
            "DFID-20270101-1000000-CA52"
        );
        assert_eq!(Dfid::new(day(2026, 11, 26), 80).as_str(), "DFID-20261126-000080-8");
        assert_eq!(Dfid::new(day(2026, 11, 26), 100).as_str(), "DFID-20261126-000100-2D1");
    }

    #[test]
    fn parse_accepts_only_rebuildable_ids() {
        assert!(Dfid::parse("DFID-20261126-000001-FF10").is_ok());
        assert!(Dfid::parse("DFID-20270101-1000000-CA52").is_ok());
        for bad in [
            "DFID-20261126-000080-0008",
            "DFID-20261126-000001-ff10",
            "DFID-20261126-000001-FF11",
            "DFID-20261126-00001-FF10",
            "DFID-20261332-000001-FF10",
            "DFID-20261126-000001",
            "dfid-20261126-000001-FF10",
            "DFID-20261126-000001-FF10-X",
            "",
        ] {
            assert_eq!(Dfid::parse(bad).unwrap_err().code, "invalid_dfid", "{bad}");
        }
    }
}
