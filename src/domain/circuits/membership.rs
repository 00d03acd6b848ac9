//! What several circuit use cases ask about membership: is the caller a member, and who manages
//! the circuit.

use crate::domain::partners::notification::Notice;
use crate::ports::IdGenerator;

use crate::domain::changes::Change;
use crate::domain::circuits::circuit::Circuit;
use crate::domain::circuits::ports::MemberRepo;
use crate::domain::circuits::roles::{Member, Permission};
use crate::domain::partners::notification::Notification;
use crate::domain::{Error, Result, Timestamp};

/// The circuit and the caller's membership (404 for non-members, who must not learn that the
/// circuit exists).
pub(crate) async fn circuit_member<S: MemberRepo + ?Sized>(
    store: &S,
    circuit_id: &str,
    user_id: &str,
) -> Result<(Circuit, Member)> {
    store
        .membership(circuit_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("circuit"))
}

/// Notifications for everyone who may decide operations, except `except`.
pub(crate) async fn notify_managers<S: MemberRepo + ?Sized>(
    store: &S,
    circuit_id: &str,
    except: &str,
    notice: Notice,
    now: Timestamp,
    ids: &dyn IdGenerator,
) -> Result<Vec<Change>> {
    Ok(store
        .privileged_members(circuit_id)
        .await?
        .into_iter()
        .filter(|m| m.can(Permission::ManageMembers) && m.user_id != except)
        .map(|m| {
            Change::Notify(Notification::new(
                ids.new_id(),
                &m.user_id,
                notice.kind,
                notice.title,
                notice.message.clone(),
                notice.data.clone(),
                now,
            ))
        })
        .collect())
}
