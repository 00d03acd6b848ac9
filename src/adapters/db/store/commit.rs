//! The unit of work: each `Change` becomes typed statements, all in one transaction.

use sea_orm::sea_query::InsertStatement;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryTrait};

use super::held::HeldInserts;
use super::runs::Run;
use super::{
    ROWS_PER_STATEMENT, SqlStore, disputes, epcis, identity_writes, inserts_as_one, mail, notifications,
    partner_writes, receipts, traceability_writes, transfers, versions,
};
use crate::adapters::db::entities::{activity, local_item};
use crate::adapters::db::{UNIQUE_VIOLATION, WriteBound};
use crate::domain::changes::{Change, OutboxQueue, UnitOfWork};
use crate::domain::items::version::VersionChange;
use crate::domain::{CONCURRENT_WRITE, Error, Result};

/// Unique indexes whose violation means something to the use case, and the code each one
/// becomes. PostgreSQL names the index (or `<table>_pkey`) in its message, SQLite the columns.
const UNIQUE_RULES: &[(&[&str], &str, &str)] = &[
    (
        &["ux_users_username_key", "users.username_key"],
        "username_taken",
        "this username is taken",
    ),
    (
        &["ux_users_email_key", "users.email_key"],
        "email_taken",
        "this email is already registered",
    ),
    (
        &["pk_canonical_names", "canonical_names_pkey", "canonical_names.key"],
        CONCURRENT_WRITE,
        "a canonical identifier was claimed meanwhile",
    ),
    (
        &["ux_epcis_events_hash", "epcis_events.circuit_id"],
        CONCURRENT_WRITE,
        "the same EPCIS event was captured meanwhile",
    ),
    (
        &["ux_events_content_hash", "events.content_hash"],
        CONCURRENT_WRITE,
        "the same event was recorded meanwhile",
    ),
    (
        &[
            "pk_circuit_members",
            "circuit_members_pkey",
            "circuit_members.circuit_id",
        ],
        "already_member",
        "this user is already a member",
    ),
    (
        &["ux_circuit_roles_name", "circuit_roles.circuit_id"],
        "role_name_taken",
        "this circuit has a role with that name",
    ),
    (
        &["pk_item_versions", "item_versions_pkey", "item_versions.dfid"],
        CONCURRENT_WRITE,
        "the item changed meanwhile",
    ),
    (
        &["ux_item_transfers_pending", "item_transfers.dfid"],
        "transfer_pending",
        "this item has a pending transfer",
    ),
];

fn name_unique_violation(err: Error) -> Error {
    if !err.is(UNIQUE_VIOLATION) {
        return err;
    }
    UNIQUE_RULES
        .iter()
        .find(|(needles, _, _)| needles.iter().any(|needle| err.message.contains(needle)))
        .map_or(err.clone(), |(_, code, message)| Error::conflict(*code, *message))
}

#[async_trait::async_trait]
impl UnitOfWork for SqlStore {
    async fn commit(&self, changes: Vec<Change>) -> Result<()> {
        self.commit_within(changes, WriteBound::Statement).await
    }

    async fn commit_bulk(&self, changes: Vec<Change>) -> Result<()> {
        self.commit_within(changes, WriteBound::Bulk).await
    }
}

impl SqlStore {
    async fn commit_within(&self, changes: Vec<Change>, bound: WriteBound) -> Result<()> {
        let notifications = Change::notifications(&changes);
        let mut queues: Vec<OutboxQueue> = changes.iter().filter_map(Change::outbox_queue).collect();
        queues.sort();
        queues.dedup();
        let versions = VersionChange::of(&changes);
        let logs_facts = !versions.is_empty() || changes.iter().any(Change::logs_fact);
        self.apply_all(changes, versions, bound).await?;
        if logs_facts {
            self.hooks.log.notify_one();
        }
        for notification in &notifications {
            self.hooks.notifier.publish(notification).await;
        }
        for queue in queues {
            self.hooks.outbox.of(queue).notify_waiters();
        }
        Ok(())
    }

    async fn apply_all(&self, mut changes: Vec<Change>, versions: Vec<VersionChange>, bound: WriteBound) -> Result<()> {
        // One statement needs no transaction around it: it is atomic on its own, and BEGIN and
        // COMMIT would triple its round trips.
        let backend = self.db.backend();
        if changes.len() == 1
            && versions.is_empty()
            && changes
                .first()
                .is_some_and(|change| is_single_statement(change, backend))
        {
            let change = changes.remove(0);
            return self
                .db
                .write_one("commit", |c| Box::pin(async move { apply(c, change).await }))
                .await
                .map_err(name_unique_violation);
        }
        if backend == DbBackend::Postgres
            && versions.is_empty()
            && changes.len() > 1
            && changes.iter().all(is_plain_insert)
        {
            // A local item and its activity: one round trip instead of BEGIN, two inserts and
            // COMMIT.
            let statement = inserts_as_one(changes.into_iter().map(plain_insert).collect::<Result<_>>()?)?;
            return self
                .db
                .write_one("commit", |c| {
                    Box::pin(async move {
                        c.execute(&statement).await?;
                        Ok(())
                    })
                })
                .await
                .map_err(name_unique_violation);
        }
        self.db
            .write_within("commit", bound, move |txn| {
                Box::pin(async move {
                    let mut held = HeldInserts::new(txn);
                    let mut run: Option<Run> = None;
                    for change in changes {
                        let change = match run.as_mut() {
                            Some(current) => match current.add(change) {
                                None => continue,
                                Some(other) => other,
                            },
                            None => change,
                        };
                        if let Some(done) = run.take() {
                            done.write(txn, &mut held).await?;
                        }
                        match Run::of_kind(&change) {
                            Some(mut started) => {
                                if let Some(change) = started.add(change) {
                                    held.write(txn).await?;
                                    apply(txn, change).await?;
                                }
                                run = Some(started);
                            }
                            None => {
                                held.write(txn).await?;
                                apply(txn, change).await?;
                            }
                        }
                    }
                    if let Some(done) = run {
                        done.write(txn, &mut held).await?;
                    }
                    held.write(txn).await?;
                    // After the changes, so each version is the state they leave.
                    versions::record_versions(txn, versions).await?;
                    Ok(())
                })
            })
            .await
            .map_err(name_unique_violation)
    }
}

/// Whether `change` is written by one INSERT that `plain_insert` builds.
fn is_plain_insert(change: &Change) -> bool {
    match change {
        Change::InsertLocalItems(locals) => (1..=ROWS_PER_STATEMENT).contains(&locals.len()),
        Change::Activity(_) => true,
        _ => false,
    }
}

/// The one INSERT that writes `change`, a kind `is_plain_insert` accepts.
fn plain_insert(change: Change) -> Result<InsertStatement> {
    match change {
        Change::InsertLocalItems(locals) => {
            Ok(local_item::Entity::insert_many(traceability_writes::local_item_rows(locals)?).into_query())
        }
        Change::Activity(activity) => {
            Ok(activity::Entity::insert_many(traceability_writes::activity_rows(vec![activity])).into_query())
        }
        _ => Err(Error::internal("not a plain insert")),
    }
}

/// Whether `apply` runs exactly one statement for this change on `backend`.
fn is_single_statement(change: &Change, backend: DbBackend) -> bool {
    match change {
        // A fact and its log entry, an attempt and its delivery's state: one statement on
        // PostgreSQL, where inserts go as data-modifying CTEs of the last statement.
        Change::InsertEvent(_) | Change::InsertReceipt(_) | Change::RecordAttempt { .. } => {
            backend == DbBackend::Postgres
        }
        Change::RevokeSessions { .. }
        | Change::AddIdentifiers { .. }
        | Change::SetPublishedItems { .. }
        | Change::RemoveCircuitItem { .. }
        | Change::ReassignCanonical { .. }
        | Change::Trigger(_)
        | Change::RecordStorage(_)
        // The notification and its mail.
        | Change::Notify(_)
        // One statement per thousand rows.
        | Change::InsertLocalItems(_)
        // One statement per event, and its EPCs.
        | Change::InsertEpcisEvents(_) => false,
        Change::InsertCaptureJob(_) | Change::FinishCaptureJob(_) => true,
        Change::InsertWorkspace { .. }
        | Change::InsertTransfer(_)
        | Change::InsertDispute(_)
        | Change::ResolveDispute { .. }
        | Change::DecideTransfer { .. }
        | Change::SetItemOwner { .. }
        | Change::InsertAccount(_)
        | Change::RecordLogin { .. }
        | Change::SetPasswordHash { .. }
        | Change::SetTier { .. }
        | Change::SetAdmin { .. }
        | Change::SetLogin { .. }
        | Change::SetStatus { .. }
        | Change::InsertSession(_)
        | Change::ExtendSession { .. }
        | Change::RevokeSession { .. }
        | Change::InsertResetToken { .. }
        | Change::ConsumeResetToken { .. }
        | Change::InsertApiKey(_)
        | Change::UpdateApiKey(_)
        | Change::RevokeApiKey { .. }
        | Change::RevokeApiKeysOf { .. }
        | Change::Audit(_)
        | Change::QueueMail(_)
        | Change::RecordMail(_)
        | Change::MapLocalItem { .. }
        | Change::InsertItem(_)
        | Change::UpdateItem { .. }
        | Change::InsertLocalEvent(_)
        | Change::AttachLocalEvent { .. }
        | Change::HoldCircuitLimit { .. }
        | Change::HoldItemLimit { .. }
        | Change::InsertCircuit(_)
        | Change::UpdateCircuit(_)
        | Change::InsertMember(_)
        | Change::UpdateMember { .. }
        | Change::RemoveMember { .. }
        | Change::InsertRole(_)
        | Change::UpdateRole(_)
        | Change::DeleteRole { .. }
        | Change::UpsertJoinRequest(_)
        | Change::DecideJoinRequest { .. }
        | Change::InsertOperation(_)
        | Change::DecideOperation { .. }
        | Change::AddCircuitItem { .. }
        | Change::GrantItemAccess { .. }
        | Change::PublishItem { .. }
        | Change::Activity(_)
        | Change::UpsertPostActionSettings { .. }
        | Change::InsertWebhook(_)
        | Change::UpdateWebhook(_)
        | Change::DeleteWebhook { .. }
        | Change::InsertDelivery(_)
        | Change::InsertStorageRecord(_) => true,
    }
}

/// Every kind of change, each to the named function that writes it: a new kind that is not
/// handled here does not compile.
async fn apply<C: ConnectionTrait>(txn: &C, change: Change) -> Result<()> {
    match change {
        Change::InsertWorkspace {
            id,
            name,
            owner_id,
            created_at,
        } => identity_writes::insert_workspace(txn, id, name, owner_id, created_at).await,
        Change::InsertAccount(account) => identity_writes::insert_account(txn, account).await,
        Change::RecordLogin {
            user_id,
            at,
            new_password_hash,
        } => identity_writes::record_login(txn, user_id, at, new_password_hash).await,
        Change::SetPasswordHash {
            user_id,
            password_hash,
            at,
        } => identity_writes::set_password_hash(txn, user_id, password_hash, at).await,
        Change::SetTier { user_id, tier, at } => identity_writes::set_tier(txn, user_id, tier, at).await,
        Change::SetAdmin { user_id, is_admin, at } => identity_writes::set_admin(txn, user_id, is_admin, at).await,
        Change::SetLogin {
            user_id,
            username,
            email,
            at,
        } => identity_writes::set_login(txn, user_id, username, email, at).await,
        Change::SetStatus {
            user_id,
            status,
            reason,
            at,
        } => identity_writes::set_status(txn, user_id, status, reason, at).await,
        Change::InsertSession(s) => identity_writes::insert_session(txn, s).await,
        Change::ExtendSession { session_id, expires_at } => {
            identity_writes::extend_session(txn, session_id, expires_at).await
        }
        Change::RevokeSession { session_id, at } => identity_writes::revoke_session(txn, session_id, at).await,
        Change::RevokeSessions {
            user_id,
            keep,
            new_epoch,
            at,
        } => identity_writes::revoke_sessions(txn, user_id, keep, new_epoch, at).await,
        Change::InsertResetToken {
            token_hash,
            user_id,
            created_at,
            expires_at,
        } => identity_writes::insert_reset_token(txn, token_hash, user_id, created_at, expires_at).await,
        Change::ConsumeResetToken { token_hash, at } => identity_writes::consume_reset_token(txn, token_hash, at).await,
        Change::InsertApiKey(key) => identity_writes::insert_api_key(txn, key).await,
        Change::UpdateApiKey(key) => identity_writes::update_api_key(txn, key).await,
        Change::RevokeApiKey { key_id, at } => identity_writes::revoke_api_key(txn, key_id, at).await,
        Change::RevokeApiKeysOf { user_id, at } => identity_writes::revoke_api_keys_of(txn, user_id, at).await,
        Change::Audit(entry) => identity_writes::audit(txn, entry).await,
        Change::QueueMail(mail) => mail::queue_mail(txn, mail).await,
        Change::RecordMail(outcome) => mail::record_mail(txn, outcome).await,
        Change::InsertLocalItems(locals) => traceability_writes::insert_local_items(txn, locals).await,
        Change::MapLocalItem { local_id, dfid } => Run::LocalMappings(vec![(local_id, dfid)]).write_alone(txn).await,
        Change::InsertItem(new) => Run::Items(vec![new]).write_alone(txn).await,
        Change::UpdateItem {
            dfid,
            expected_updated_at,
            identifiers,
            enriched_data,
            status,
            updated_at,
        } => {
            traceability_writes::update_item(
                txn,
                dfid,
                expected_updated_at,
                identifiers,
                enriched_data,
                status,
                updated_at,
            )
            .await
        }
        Change::AddIdentifiers {
            dfid,
            identifiers,
            added_by,
            at,
        } => {
            Run::Identifiers(vec![(dfid, identifiers, added_by, at)])
                .write_alone(txn)
                .await
        }
        Change::InsertEvent(e) => Run::Events(vec![e]).write_alone(txn).await,
        Change::InsertReceipt(r) => receipts::insert_receipt(txn, r).await,
        Change::InsertCaptureJob(job) => epcis::insert_capture(txn, job).await,
        Change::FinishCaptureJob(job) => epcis::finish_capture(txn, job).await,
        Change::InsertEpcisEvents(events) => epcis::insert_events(txn, events).await,
        Change::InsertLocalEvent(e) => traceability_writes::insert_local_event(txn, e).await,
        Change::AttachLocalEvent {
            local_event_id,
            event_id,
            dfid,
        } => traceability_writes::attach_local_event(txn, local_event_id, event_id, dfid).await,
        Change::HoldItemLimit {
            owner_id,
            since,
            limit,
            adding,
        } => traceability_writes::hold_item_limit(txn, owner_id, since, limit, adding).await,
        Change::HoldCircuitLimit { owner_id, limit } => {
            traceability_writes::hold_circuit_limit(txn, owner_id, limit).await
        }
        Change::InsertCircuit(c) => traceability_writes::insert_circuit(txn, c).await,
        Change::UpdateCircuit(c) => traceability_writes::update_circuit(txn, c).await,
        Change::InsertMember(m) => traceability_writes::insert_member(txn, m).await,
        Change::UpdateMember {
            circuit_id,
            user_id,
            role,
            custom_role,
        } => traceability_writes::update_member(txn, circuit_id, user_id, role, custom_role).await,
        Change::RemoveMember { circuit_id, user_id } => {
            traceability_writes::remove_member(txn, circuit_id, user_id).await
        }
        Change::InsertRole(role) => traceability_writes::insert_role(txn, role).await,
        Change::UpdateRole(role) => traceability_writes::update_role(txn, role).await,
        Change::DeleteRole { role_id } => traceability_writes::delete_role(txn, role_id).await,
        Change::UpsertJoinRequest(r) => traceability_writes::upsert_join_request(txn, r).await,
        Change::DecideJoinRequest {
            circuit_id,
            user_id,
            status,
            decided_by,
            at,
            reason,
        } => traceability_writes::decide_join_request(txn, circuit_id, user_id, status, decided_by, at, reason).await,
        Change::InsertOperation(op) => Run::Operations(vec![op]).write_alone(txn).await,
        Change::DecideOperation {
            operation_id,
            status,
            decided_by,
            at,
            reason,
        } => traceability_writes::decide_operation(txn, operation_id, status, decided_by, at, reason).await,
        Change::AddCircuitItem {
            circuit_id,
            dfid,
            pushed_by,
            pushed_at,
        } => {
            Run::CircuitItems(vec![(circuit_id, dfid, pushed_by, pushed_at)])
                .write_alone(txn)
                .await
        }
        Change::InsertTransfer(t) => transfers::insert_transfer(txn, t).await,
        Change::InsertDispute(d) => disputes::insert_dispute(txn, d).await,
        Change::ResolveDispute {
            dispute_id,
            status,
            note,
            resolved_by,
            at,
        } => disputes::resolve_dispute(txn, dispute_id, status, note, resolved_by, at).await,
        Change::ReassignCanonical {
            key,
            value,
            from_dfid,
            to_dfid,
        } => disputes::reassign_canonical(txn, key, value, from_dfid, to_dfid).await,
        Change::DecideTransfer {
            transfer_id,
            status,
            at,
        } => transfers::decide_transfer(txn, transfer_id, status, at).await,
        Change::SetItemOwner {
            dfid,
            from_user_id,
            to_user_id,
            at,
        } => transfers::set_item_owner(txn, dfid, from_user_id, to_user_id, at).await,
        Change::RemoveCircuitItem { circuit_id, dfid } => {
            traceability_writes::remove_circuit_item(txn, circuit_id, dfid).await
        }
        Change::GrantItemAccess {
            dfid,
            user_id,
            circuit_id,
            at,
        } => traceability_writes::grant_item_access(txn, dfid, user_id, circuit_id, at).await,
        Change::SetPublishedItems { circuit_id, dfids, at } => {
            traceability_writes::set_published_items(txn, circuit_id, dfids, at).await
        }
        Change::PublishItem { circuit_id, dfid, at } => {
            traceability_writes::publish_item(txn, circuit_id, dfid, at).await
        }
        Change::Activity(a) => Run::Activities(vec![a]).write_alone(txn).await,
        Change::Notify(n) => notifications::notify(txn, n).await,
        Change::Trigger(t) => Run::Triggers(vec![t]).write_alone(txn).await,
        Change::UpsertPostActionSettings {
            circuit_id,
            settings,
            at,
        } => partner_writes::upsert_post_action_settings(txn, circuit_id, settings, at).await,
        Change::InsertWebhook(w) => partner_writes::insert_webhook(txn, w).await,
        Change::UpdateWebhook(w) => partner_writes::update_webhook(txn, w).await,
        Change::DeleteWebhook { webhook_id } => partner_writes::delete_webhook(txn, webhook_id).await,
        Change::InsertDelivery(d) => partner_writes::insert_delivery(txn, d).await,
        Change::RecordAttempt {
            delivery_id,
            attempt,
            result,
            status,
            next_attempt_at,
            at,
        } => partner_writes::record_attempt(txn, delivery_id, attempt, result, status, next_attempt_at, at).await,
        Change::InsertStorageRecord(r) => partner_writes::insert_storage_record(txn, r).await,
        Change::RecordStorage(outcome) => partner_writes::record_storage(txn, outcome).await,
    }
}
