//! Rules for the free-text fields of circuits, roles and public pages.

use crate::domain::{Error, Result};

pub(crate) fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min || length > max {
        return Err(Error::field(field, format!("{min} to {max} characters")));
    }
    Ok(value.to_owned())
}

pub(crate) fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    value.map(|v| text(field, &v, 0, max)).transpose()
}

/// Colors are `#rgb` or `#rrggbb`.
pub(crate) fn color(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(c)
            if !(c.starts_with('#') && matches!(c.len(), 4 | 7) && c[1..].chars().all(|x| x.is_ascii_hexdigit())) =>
        {
            Err(Error::field(field, "a color like #1a2b3c"))
        }
        other => Ok(other),
    }
}

pub(crate) fn https_url(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 => {
            Err(Error::field(field, "an http(s) URL"))
        }
        other => Ok(other),
    }
}
