//! Spreadsheets out: RFC 4180 rows (CRLF, fields quoted when they hold a comma, a quote or a line
//! break) in UTF-8, with formulas neutralised: a cell that a spreadsheet would evaluate (one
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return) starts with `'` instead, so a
//! value someone else typed into an item never runs in the reader's spreadsheet.

use std::future::Future;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};

use crate::domain::page::Page;
use crate::domain::{Error, Result};

/// A header line, then the rows of `first` and of each page after it, asked of `next` with the
/// previous page's cursor only when the reader wants more: nothing is held while it waits. An
/// error part way ends the file early (the status is sent already) and is logged.
pub fn streamed<T, Next, Pending>(columns: &[&str], first: Page<T>, next: Next, row_of: fn(&T) -> String) -> poem::Body
where
    T: Send + 'static,
    Next: Fn(String) -> Pending + Send + Sync + 'static,
    Pending: Future<Output = Result<Page<T>>> + Send + 'static,
{
    let next = Arc::new(next);
    let rows = futures_util::stream::try_unfold(Some(first), move |page| {
        let next = next.clone();
        async move {
            let Some(page) = page else {
                return Ok(None);
            };
            let chunk: String = page.data.iter().map(row_of).collect();
            let following = match page.next_cursor {
                Some(cursor) => Some(next(cursor).await?),
                None => None,
            };
            Ok(Some((chunk, following)))
        }
    });
    let header = futures_util::stream::once(std::future::ready(Ok(row(columns.iter().copied()))));
    let body = header.chain(rows).map_err(|err: Error| {
        tracing::warn!(error = %err, "a CSV export stopped part way");
        std::io::Error::other(err.to_string())
    });
    poem::Body::from_bytes_stream(body)
}

/// One CSV line, CRLF included.
pub fn row<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            line.push(',');
        }
        push_field(&mut line, field);
    }
    line.push_str("\r\n");
    line
}

fn push_field(line: &mut String, field: &str) {
    let evaluated = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = evaluated || field.contains([',', '"', '\n', '\r']);
    if quoted {
        line.push('"');
    }
    if evaluated {
        line.push('\'');
    }
    line.push_str(&field.replace('"', "\"\""));
    if quoted {
        line.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::{row, streamed};
    use crate::domain::page::Page;

    #[tokio::test]
    async fn pages_are_asked_for_one_after_another_until_the_last() {
        let page = |data: Vec<&'static str>, next: Option<&str>| Page {
            data,
            next_cursor: next.map(str::to_owned),
        };
        let next = move |cursor: String| async move {
            Ok(match cursor.as_str() {
                "2" => page(vec!["c", "d"], Some("3")),
                _ => page(vec!["e"], None),
            })
        };
        let body = streamed(&["letter"], page(vec!["a", "b"], Some("2")), next, |letter| {
            row([*letter])
        });
        let text = body.into_string().await.unwrap();
        assert_eq!(text, "letter\r\na\r\nb\r\nc\r\nd\r\ne\r\n");
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(row(["a", "b c", ""]), "a,b c,\r\n");
        assert_eq!(
            row(["1,5", "say \"hi\"", "two\nlines"]),
            "\"1,5\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn formulas_never_reach_the_spreadsheet() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            let line = row([formula]);
            assert!(line.starts_with("\"'"), "{line:?}");
        }
        assert_eq!(
            row(["=HYPERLINK(\"http://x\")"]),
            "\"'=HYPERLINK(\"\"http://x\"\")\"\r\n"
        );
        assert_eq!(row(["a=1", "x-1"]), "a=1,x-1\r\n");
    }
}
