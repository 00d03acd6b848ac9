//! Types shared by several APIs: enums as the spec spells them, lists, and query helpers.

use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiResponse, Object};

use crate::domain::identity::account::{AccountStatus, Tier};
use crate::domain::page::PageRequest;
use crate::domain::{Error, Result};

/// Declares an API enum mirroring a domain enum (variant names as written, renamed in the spec by
/// `$rename`), with conversions both ways.
macro_rules! mirror {
    ($(#[$meta:meta])* $api:ident <=> $domain:path, $rename:literal { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
        #[oai(rename_all = $rename)]
        pub enum $api {
            $($variant),+
        }

        impl From<$domain> for $api {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$variant => $api::$variant),+
                }
            }
        }

        impl From<$api> for $domain {
            fn from(value: $api) -> Self {
                match value {
                    $($api::$variant => <$domain>::$variant),+
                }
            }
        }
    };
}
pub(crate) use mirror;

mirror!(
    /// Service tier: decides limits. `Admin` lifts limits; it does not grant administration.
    TierName <=> Tier, "PascalCase" { Basic, Professional, Enterprise, Admin }
);
mirror!(
    /// Account status; anything but `Active` is refused with 403.
    StatusName <=> AccountStatus, "PascalCase" { Active, Suspended, Banned, PendingVerification, TrialExpired }
);

/// Declares the list envelope `{data: [...], next_cursor}` for an item type.
macro_rules! list_of {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(poem_openapi::Object)]
        pub struct $name {
            pub data: Vec<$item>,
            /// Pass as `cursor` for the next page; null on the last page.
            #[oai(nullable)]
            pub next_cursor: Option<String>,
        }

        impl<T: Into<$item>> From<crate::domain::page::Page<T>> for $name {
            fn from(page: crate::domain::page::Page<T>) -> Self {
                Self {
                    data: page.data.into_iter().map(Into::into).collect(),
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}
pub(crate) use list_of;

/// `limit` (1 to 500, default 50) and `cursor` from the query string.
pub fn page(limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest> {
    PageRequest::new(limit, cursor.as_deref())
}

/// Rejects text fields longer than `max` characters before any work is done.
pub fn bounded(field: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::field(field, format!("at most {max} characters")));
    }
    Ok(())
}

#[derive(Object)]
pub struct ReasonBody {
    #[oai(nullable)]
    pub reason: Option<String>,
}

#[derive(ApiResponse)]
pub enum Created<T: poem_openapi::types::ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>),
}

#[derive(ApiResponse)]
pub enum CreatedOrExisting<T: poem_openapi::types::ToJSON> {
    /// Created.
    #[oai(status = 201)]
    Created(Json<T>),
    /// Already there; this is the existing one.
    #[oai(status = 200)]
    Existing(Json<T>),
}

impl<T: poem_openapi::types::ToJSON> CreatedOrExisting<T> {
    pub fn new(created: bool, body: T) -> Self {
        if created {
            Self::Created(Json(body))
        } else {
            Self::Existing(Json(body))
        }
    }
}

#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// A JSON object of the caller's own fields (`enriched_data`, `metadata`). The spec declares
/// `type: object` so typed clients get a map, not `unknown`; the domain rules check what arrives,
/// so a value that is not an object gets their 400 naming the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonObject(pub serde_json::Value);

impl From<serde_json::Map<String, serde_json::Value>> for JsonObject {
    fn from(fields: serde_json::Map<String, serde_json::Value>) -> Self {
        Self(serde_json::Value::Object(fields))
    }
}

impl poem_openapi::types::Type for JsonObject {
    const IS_REQUIRED: bool = true;
    type RawValueType = serde_json::Value;
    type RawElementValueType = serde_json::Value;

    fn name() -> std::borrow::Cow<'static, str> {
        "object".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::ANY)))),
            ..MetaSchema::new("object")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl poem_openapi::types::ParseFromJSON for JsonObject {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        Ok(Self(value.unwrap_or_default()))
    }
}

impl poem_openapi::types::ToJSON for JsonObject {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(self.0.clone())
    }
}

/// A moment in UTC as every timestamp in the API is written: RFC 3339 ending in `Z`. (poem-openapi
/// writes chrono's `+00:00`, which some fields had and others, written by the domain, did not.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime(pub chrono::DateTime<chrono::Utc>);

impl From<chrono::DateTime<chrono::Utc>> for UtcTime {
    fn from(time: chrono::DateTime<chrono::Utc>) -> Self {
        Self(time)
    }
}

impl poem_openapi::types::Type for UtcTime {
    const IS_REQUIRED: bool = true;
    type RawValueType = chrono::DateTime<chrono::Utc>;
    type RawElementValueType = chrono::DateTime<chrono::Utc>;

    fn name() -> std::borrow::Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl poem_openapi::types::ParseFromJSON for UtcTime {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        chrono::DateTime::<chrono::Utc>::parse_from_json(value)
            .map(Self)
            .map_err(poem_openapi::types::ParseError::propagate)
    }
}

impl poem_openapi::types::ToJSON for UtcTime {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.to_string()))
    }
}

impl std::fmt::Display for UtcTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}
