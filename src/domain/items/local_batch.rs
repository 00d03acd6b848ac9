//! Local items many at a time (a JSON batch, a spreadsheet's rows): every row is checked before
//! anything is written, the rows are written in one transaction, and they count toward the tier's
//! monthly item limit as a whole. One bad row refuses the request and names each bad row.

use serde_json::{Map, Value, json};

use crate::domain::audit::Activity;
use crate::domain::changes::Change;
use crate::domain::identity::access::Principal;
use crate::domain::items::identifier::{Identifier, IdentifierInput, Namespace, parse_identifiers};
use crate::domain::items::item::{LocalItem, data_object};
use crate::domain::items::item_service::{ItemService, month_start};
use crate::domain::{Error, ErrorKind, Result};

/// Items in one JSON batch.
pub const MAX_BATCH_ITEMS: usize = 1_000;
/// Data rows in one spreadsheet import.
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// Row errors an answer lists; the rest are counted.
pub const MAX_ROW_ERRORS: usize = 100;

/// What a caller sends for one local item.
#[derive(Debug, Clone, Default)]
pub struct NewLocalItem {
    pub identifiers: Vec<IdentifierInput>,
    pub enriched_data: Option<Value>,
    /// The namespace of identifiers that name none.
    pub namespace: Option<Namespace>,
}

/// A local item whose identifiers and data passed the rules, not yet written.
#[derive(Debug, Clone)]
pub struct CheckedLocalItem {
    identifiers: Vec<Identifier>,
    enriched_data: Map<String, Value>,
}

/// Where one row went wrong: `row` and `field` as the caller's format names them (an index and a
/// JSON path, or a spreadsheet row number and a column).
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: u64,
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

/// The errors of a batch: the first `MAX_ROW_ERRORS` kept, all of them counted.
#[derive(Debug, Default)]
pub struct RowErrors {
    listed: Vec<RowError>,
    count: u64,
    /// Some row failed for a reason other than its content's form (a conflict, a missing item).
    refused: bool,
}

impl RowErrors {
    /// Records `error` against `row`; `field` names where, when the error does not say better.
    pub fn push(&mut self, row: u64, field: Option<String>, error: Error) {
        self.count += 1;
        self.refused |= error.kind != ErrorKind::Invalid;
        if self.listed.len() < MAX_ROW_ERRORS {
            self.listed.push(RowError {
                row,
                field,
                code: error.code.into_owned(),
                message: error.message,
            });
        }
    }

    /// 400 `invalid_rows` naming the bad rows (409 `rows_refused` when some row is well formed
    /// but cannot be done), or nothing when there are none.
    pub fn into_result(self) -> Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        let errors: Vec<Value> = self
            .listed
            .iter()
            .map(|e| json!({ "row": e.row, "field": e.field, "code": e.code, "message": e.message }))
            .collect();
        let rows = match self.count {
            1 => "1 row is invalid".to_owned(),
            count => format!("{count} rows are invalid"),
        };
        let error = if self.refused {
            Error::conflict("rows_refused", format!("{rows} or refused; nothing was done"))
        } else {
            Error::invalid("invalid_rows", format!("{rows}; nothing was done"))
        };
        Err(error.with_details(json!({ "error_count": self.count, "errors": errors })))
    }
}

/// The field a rule error names, when it names one.
pub fn error_field(error: &Error) -> Option<&str> {
    error.details.as_ref()?.get("field")?.as_str()
}

impl ItemService {
    /// Checks one item for the caller without touching storage.
    pub fn check_local(&self, principal: &Principal, new: NewLocalItem) -> Result<CheckedLocalItem> {
        let identifiers = parse_identifiers(new.identifiers, new.namespace.unwrap_or(Namespace::Generic))?
            .into_iter()
            .map(|identifier| identifier.added_by(&principal.user_id))
            .collect();
        Ok(CheckedLocalItem {
            identifiers,
            enriched_data: data_object(new.enriched_data)?,
        })
    }

    /// Creates up to `MAX_BATCH_ITEMS` local items, all or none; a bad item is 400
    /// `invalid_rows` naming each bad item by its index and field.
    pub async fn create_local_batch(&self, principal: &Principal, items: Vec<NewLocalItem>) -> Result<Vec<LocalItem>> {
        if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
            return Err(Error::field("items", format!("1 to {MAX_BATCH_ITEMS} items")));
        }
        let mut errors = RowErrors::default();
        let mut checked = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match self.check_local(principal, item) {
                Ok(item) => checked.push(item),
                Err(error) => {
                    let field = error_field(&error).map(|field| format!("items[{index}].{field}"));
                    errors.push(index as u64, field, error);
                }
            }
        }
        errors.into_result()?;
        self.create_checked(principal, checked).await
    }

    /// Writes checked items as the caller's, in one transaction that holds the monthly item
    /// limit for all of them (403 `tier_limit_exceeded` when they do not all fit).
    pub async fn create_checked(&self, principal: &Principal, items: Vec<CheckedLocalItem>) -> Result<Vec<LocalItem>> {
        let now = self.clock.now();
        let created: Vec<LocalItem> = items
            .into_iter()
            .map(|item| LocalItem {
                local_id: self.ids.new_id(),
                owner_id: principal.user_id.clone(),
                identifiers: item.identifiers,
                enriched_data: item.enriched_data,
                dfid: None,
                created_at: now,
            })
            .collect();
        let count = created.len();
        // Counted inside the creating transaction, so parallel creations cannot all pass.
        let hold = self
            .policy
            .max_items_per_month(principal.tier)
            .map(|limit| Change::HoldItemLimit {
                owner_id: principal.user_id.clone(),
                since: month_start(now),
                limit,
                adding: count as u64,
            });
        let summary = match count {
            1 => "created a local item".to_owned(),
            _ => format!("created {count} local items"),
        };
        let changes = hold.into_iter().chain([
            Change::InsertLocalItems(created.clone()),
            Change::Activity(Activity::new(
                self.ids.new_id(),
                "local_item_created",
                &principal.user_id,
                summary,
                now,
            )),
        ]);
        self.store.commit(changes.collect()).await?;
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identity::access::TierPolicy;
    use crate::domain::items::conflicts::ConflictLimit;
    use crate::domain::testing::{CountingLimiter, FixedClock, MemoryStore, SequentialIds, principal};
    use std::sync::Arc;

    fn limit(items_per_month: u64) -> TierPolicy {
        TierPolicy {
            requests_per_hour: [None; 3],
            max_circuits: [None; 2],
            max_items_per_month: [Some(items_per_month); 2],
        }
    }

    fn service_with_policy(policy: TierPolicy) -> (ItemService, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::default());
        let clock = Arc::new(FixedClock::default());
        let ids = Arc::new(SequentialIds::default());
        let service = ItemService {
            store: store.clone(),
            clock: clock.clone(),
            ids: ids.clone(),
            policy,
            conflicts: ConflictLimit::new(Arc::new(CountingLimiter::default()), store.clone(), clock, ids),
        };
        (service, store)
    }

    fn sisbov(value: &str) -> NewLocalItem {
        NewLocalItem {
            identifiers: vec![IdentifierInput {
                key: "sisbov".into(),
                value: value.into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_batch_is_all_or_nothing_and_names_every_bad_item() {
        let (service, store) = service_with_policy(limit(1_000));
        let caller = principal("user-a");
        let err = service
            .create_local_batch(&caller, vec![sisbov("BR123456789012"), sisbov("BR12"), sisbov("nope")])
            .await
            .unwrap_err();
        assert_eq!(err.code, "invalid_rows");
        let details = err.details.unwrap();
        assert_eq!(details["error_count"], 2);
        assert_eq!(details["errors"][0]["row"], 1);
        assert_eq!(details["errors"][0]["field"], "items[1].identifiers[0]");
        assert_eq!(details["errors"][1]["row"], 2);
        assert_eq!(store.local_item_count(), 0);

        let created = service
            .create_local_batch(&caller, vec![sisbov("BR123456789012"), NewLocalItem::default()])
            .await
            .unwrap();
        assert_eq!(created.len(), 2);
        assert_eq!(store.local_item_count(), 2);
    }

    #[tokio::test]
    async fn a_batch_that_does_not_fit_the_monthly_limit_is_refused_whole() {
        let (service, store) = service_with_policy(limit(3));
        let caller = principal("user-a");
        let four = vec![NewLocalItem::default(); 4];
        let err = service.create_local_batch(&caller, four).await.unwrap_err();
        assert_eq!(err.code, "tier_limit_exceeded");
        assert_eq!(store.local_item_count(), 0);
        assert_eq!(
            service
                .create_local_batch(&caller, vec![NewLocalItem::default(); 3])
                .await
                .unwrap()
                .len(),
            3
        );
    }

    #[tokio::test]
    async fn a_batch_holds_one_to_a_thousand_items() {
        let (service, _) = service_with_policy(limit(1_000));
        let caller = principal("user-a");
        for size in [0, MAX_BATCH_ITEMS + 1] {
            let err = service
                .create_local_batch(&caller, vec![NewLocalItem::default(); size])
                .await
                .unwrap_err();
            assert_eq!(err.code, "validation_error");
        }
    }

    #[test]
    fn only_the_first_hundred_row_errors_are_listed_but_all_are_counted() {
        let mut errors = RowErrors::default();
        for row in 0..150 {
            errors.push(row, None, Error::field("x", "bad"));
        }
        let details = errors.into_result().unwrap_err().details.unwrap();
        assert_eq!(details["error_count"], 150);
        assert_eq!(details["errors"].as_array().unwrap().len(), MAX_ROW_ERRORS);
    }
}
