//! Spreadsheets in: `POST /api/items/local/import` turns a CSV file's rows into the caller's
//! local items. The body is parsed as it arrives, one row at a time, and each row is checked
//! then; only the checked rows are kept, and they are written together or not at all.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use csv_async::{AsyncReaderBuilder, ErrorKind as CsvErrorKind, StringRecord, Trim};
use poem::{Request, RequestBody};
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiRequest, ApiResponse, Object, OpenApi};
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, ReadBuf};

use super::caller::Caller;
use super::error::ApiResult;
use super::{ApiTags, State};
use crate::domain::items::identifier::{IdentifierInput, Namespace, Registry};
use crate::domain::items::item::MAX_DATA_KEYS;
use crate::domain::items::local_batch::{MAX_IMPORT_ROWS, NewLocalItem, RowErrors, error_field};
use crate::domain::{Error, Result};

pub const IMPORT_PATH: &str = "/api/items/local/import";

pub struct ImportApi;

/// A CSV file as it arrives.
pub struct CsvUpload(poem::Body);

impl Payload for CsvUpload {
    const CONTENT_TYPE: &'static str = "text/csv";

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/csv"))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            format: Some("binary"),
            ..MetaSchema::new("string")
        }))
    }
}

impl ParsePayload for CsvUpload {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(body.take()?))
    }
}

#[derive(ApiRequest)]
enum ImportBody {
    /// RFC 4180 CSV in UTF-8 with a header row and at most 10,000 data rows. Columns named after
    /// a registry (`sisbov`, `cpf`, `cnpj`, `car`, `nirf`, `ie`, `rfid`, in any letter case)
    /// become canonical identifiers; `namespace` sets the namespace of the row's identifiers
    /// (default `generic`); every other column becomes a key of `enriched_data` with the cell's
    /// text as its value (kept as text: `007` stays `007`). Empty cells are left out.
    Csv(CsvUpload),
}

/// The local items a file created, in the order of its rows.
#[derive(Object)]
struct ImportedItems {
    count: u64,
    /// The new local items' ids, one per data row, in order.
    local_ids: Vec<String>,
}

#[derive(ApiResponse)]
enum Imported {
    /// Every row became a local item owned by the caller.
    #[oai(status = 201)]
    Created(Json<ImportedItems>),
}

#[OpenApi(tag = "ApiTags::Items")]
impl ImportApi {
    /// Create local items from a spreadsheet (CSV), all or none. Rows that break a rule are 400
    /// `invalid_rows`, whose `details.errors` name each bad row by its line in the file (the
    /// header is line 1) and its column; a header that cannot be read is 400 `invalid_csv`; more
    /// than 10,000 data rows is 400 `too_many_rows`; a file larger than `MAX_IMPORT_BYTES` is 413.
    /// The rows count toward the monthly item limit as a whole (403 `tier_limit_exceeded` when
    /// they do not all fit).
    #[oai(
        path = "/api/items/local/import",
        method = "post",
        operation_id = "import_local_items"
    )]
    async fn import(&self, state: State<'_>, caller: Caller, body: ImportBody) -> ApiResult<Imported> {
        let ImportBody::Csv(CsvUpload(body)) = body;
        let reader = Capped {
            inner: body.into_async_read(),
            left: state.max_import_bytes,
            max: state.max_import_bytes,
        };
        let items = &state.items;
        let mut csv = AsyncReaderBuilder::new()
            .flexible(true)
            .trim(Trim::Headers)
            .create_reader(reader);
        let sheet = Sheet::from_header(csv.headers().await.map_err(read_error)?)?;
        let mut errors = RowErrors::default();
        let mut checked = Vec::new();
        let mut record = StringRecord::new();
        let mut rows = 0;
        loop {
            let line = csv.position().line();
            match csv.read_record(&mut record).await {
                Ok(false) => break,
                Ok(true) => {}
                Err(err) if matches!(err.kind(), CsvErrorKind::Utf8 { .. }) => {
                    errors.push(line, None, Error::invalid("invalid_csv", "this row is not UTF-8 text"));
                    continue;
                }
                Err(err) => return Err(read_error(err).into()),
            }
            rows += 1;
            if rows > MAX_IMPORT_ROWS {
                return Err(Error::invalid(
                    "too_many_rows",
                    format!("a file may have at most {MAX_IMPORT_ROWS} data rows"),
                )
                .into());
            }
            let line = record.position().map_or(line, |position| position.line());
            if let Some((item, columns)) = sheet.item(&record, line, &mut errors) {
                match items.check_local(&caller.principal, item) {
                    Ok(item) => checked.push(item),
                    Err(error) => errors.push(line, sheet.column_of(&error, &columns), error),
                }
            }
        }
        errors.into_result()?;
        if checked.is_empty() {
            return Err(Error::field("rows", "at least one data row").into());
        }
        let created = items.create_checked(&caller.principal, checked).await?;
        Ok(Imported::Created(Json(ImportedItems {
            count: created.len() as u64,
            local_ids: created.into_iter().map(|item| item.local_id).collect(),
        })))
    }
}

/// What a column of the file holds.
enum Column {
    Registry(&'static str),
    Namespace,
    Data(String),
}

struct Sheet {
    columns: Vec<(String, Column)>,
}

impl Sheet {
    fn from_header(header: &StringRecord) -> Result<Self> {
        let refuse = |message: String| Error::invalid("invalid_csv", message);
        let mut columns: Vec<(String, Column)> = Vec::with_capacity(header.len());
        for name in header.iter() {
            if name.is_empty() {
                return Err(refuse("every column needs a name in the header row".to_owned()));
            }
            if columns.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(name)) {
                return Err(refuse(format!("the column {name:?} appears twice")));
            }
            let column = match Registry::parse(name) {
                Some(registry) => Column::Registry(registry.key()),
                None if name.eq_ignore_ascii_case("namespace") => Column::Namespace,
                None => Column::Data(name.to_owned()),
            };
            columns.push((name.to_owned(), column));
        }
        let data = columns.iter().filter(|(_, c)| matches!(c, Column::Data(_))).count();
        if data > MAX_DATA_KEYS {
            return Err(refuse(format!("at most {MAX_DATA_KEYS} data columns")));
        }
        Ok(Self { columns })
    }

    /// The row as a new local item, with the column each of its identifiers came from; a row
    /// that cannot be one is recorded in `errors` against `line`.
    fn item(&self, record: &StringRecord, line: u64, errors: &mut RowErrors) -> Option<(NewLocalItem, Vec<usize>)> {
        if record.len() > self.columns.len() {
            let (cells, columns) = (record.len(), self.columns.len());
            let message = format!("{cells} cells where the header has {columns} columns");
            errors.push(line, None, Error::invalid("invalid_csv", message));
            return None;
        }
        let mut item = NewLocalItem::default();
        let mut identifier_columns = Vec::new();
        let mut data = Map::new();
        for (index, cell) in record.iter().enumerate() {
            if cell.trim().is_empty() {
                continue;
            }
            match &self.columns[index] {
                (_, Column::Registry(key)) => {
                    item.identifiers.push(IdentifierInput {
                        key: (*key).to_owned(),
                        value: cell.to_owned(),
                        ..IdentifierInput::default()
                    });
                    identifier_columns.push(index);
                }
                (name, Column::Namespace) => match cell.trim().parse::<Namespace>() {
                    Ok(namespace) => item.namespace = Some(namespace),
                    Err(error) => {
                        errors.push(line, Some(name.clone()), error);
                        return None;
                    }
                },
                (_, Column::Data(key)) => {
                    data.insert(key.clone(), Value::String(cell.to_owned()));
                }
            }
        }
        item.enriched_data = Some(Value::Object(data));
        Some((item, identifier_columns))
    }

    /// The column an error about the row's `identifiers[i]` came from.
    fn column_of(&self, error: &Error, identifier_columns: &[usize]) -> Option<String> {
        let index: usize = error_field(error)?
            .strip_prefix("identifiers[")?
            .split(']')
            .next()?
            .parse()
            .ok()?;
        let column = *identifier_columns.get(index)?;
        self.columns.get(column).map(|(name, _)| name.clone())
    }
}

/// Why the file could not be read on.
fn read_error(err: csv_async::Error) -> Error {
    if let CsvErrorKind::Io(io) = err.kind()
        && io.get_ref().is_some_and(|inner| inner.is::<BodyTooLarge>())
    {
        return Error::too_large(io.to_string());
    }
    Error::invalid("invalid_csv", format!("the file could not be read: {err}"))
}

#[derive(Debug)]
struct BodyTooLarge(usize);

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body is larger than {} bytes", self.0)
    }
}

impl std::error::Error for BodyTooLarge {}

/// Reads at most `max` bytes of `inner`; a byte more is a `BodyTooLarge` error.
struct Capped<R> {
    inner: R,
    left: usize,
    max: usize,
}

impl<R: AsyncRead + Unpin> AsyncRead for Capped<R> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let read = buf.filled().len() - before;
        this.left = this
            .left
            .checked_sub(read)
            .ok_or_else(|| io::Error::other(BodyTooLarge(this.max)))?;
        Poll::Ready(Ok(()))
    }
}
