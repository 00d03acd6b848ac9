//! Cursor pagination: newest first by a timestamp, ties broken by id; the cursor is the last
//! `(timestamp, id)` seen, opaque to clients.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use crate::domain::{Error, Timestamp};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: Timestamp,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at.timestamp_micros(), self.id))
    }

    pub fn decode(text: &str) -> Result<Self, Error> {
        let invalid = || Error::field("cursor", "not a cursor this API returned");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (micros, id) = text.split_once('|').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(invalid)?;
        if id.is_empty() || id.len() > 200 {
            return Err(invalid());
        }
        Ok(Self { at, id: id.to_owned() })
    }
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// `limit` must be 1 to 500 (400 otherwise, never clamped).
    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, Error> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::field("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = cursor.filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }

    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row only says
    /// that another page exists.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> Cursor) -> Self {
        let limit = request.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| key(last).encode())
        } else {
            None
        };
        Self {
            data: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            at: DateTime::<Utc>::from_timestamp_micros(1_764_201_600_123_456).unwrap(),
            id: "abc-1".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(Cursor::decode("not-base64!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("12|")).is_err());
    }

    #[test]
    fn limits_are_validated_not_clamped() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit, 50);
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(501), None).is_err());
        assert_eq!(PageRequest::new(Some(500), None).unwrap().limit, 500);
    }

    #[test]
    fn extra_row_makes_a_next_cursor() {
        let request = PageRequest::first(2);
        let key = |n: &i64| Cursor {
            at: DateTime::<Utc>::from_timestamp_micros(*n).unwrap(),
            id: n.to_string(),
        };
        let page = Page::from_rows(vec![3, 2, 1], &request, key);
        assert_eq!(page.data, vec![3, 2]);
        assert_eq!(Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap().id, "2");
        assert_eq!(Page::from_rows(vec![3, 2], &request, key).next_cursor, None);
    }
}
