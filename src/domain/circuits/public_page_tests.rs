//! Who gets through a circuit's public page, and what joining through it does
//! ([`PageGate`], [`PublicPageService`], [`JoinService`]).

use std::net::IpAddr;
use std::sync::Arc;

use crate::domain::ErrorKind;
use crate::domain::changes::{Change, UnitOfWork};
use crate::domain::circuits::circuit::CircuitSettings;
use crate::domain::circuits::join_service::{JoinDecision, JoinService, PublicJoin};
use crate::domain::circuits::page_pass::PassKey;
use crate::domain::circuits::public_page::{AccessMode, PageGate, PageKey, PublicSettings};
use crate::domain::circuits::public_page_service::PublicPageService;
use crate::domain::circuits::roles::MemberRole;
use crate::domain::testing::{
    CountingLimiter, FixedClock, MemoryStore, PlainHasher, SequentialIds, assert_refused, cid, dfid, meta, principal,
    start_of_test, uid,
};

struct World {
    store: Arc<MemoryStore>,
    clock: Arc<FixedClock>,
    hasher: Arc<PlainHasher>,
    pages: PublicPageService,
    joins: JoinService,
}

const PAGE_PASSWORD: &str = "lote-42-cafe";

/// Circuit `c` owned by `owner` with `admin` as Admin, whose page is set by `page`.
fn world(page: impl FnOnce(&mut PublicSettings)) -> World {
    let store = Arc::new(MemoryStore::default());
    store.add_circuit(
        "c",
        "owner",
        CircuitSettings {
            allow_public_visibility: true,
            ..CircuitSettings::default()
        },
    );
    store.add_member("c", "admin", MemberRole::Admin);
    let mut public = PublicSettings {
        enabled: true,
        access_mode: AccessMode::Public,
        access_password_hash: None,
        scheduled_date: None,
        public_name: "Cooperativa Cafe Sul".into(),
        public_description: None,
        primary_color: None,
        secondary_color: None,
        logo_url: None,
        tagline: None,
        footer_text: None,
        auto_publish_pushed_items: false,
        auto_approve_members: false,
        public_since: Some(start_of_test()),
    };
    page(&mut public);
    store.update_circuit("c", |c| c.public = Some(public));
    let clock = Arc::new(FixedClock::default());
    let hasher = Arc::new(PlainHasher::default());
    let gate = Arc::new(PageGate {
        circuits: store.clone(),
        clock: clock.clone(),
        hasher: hasher.clone(),
        limiter: Arc::new(CountingLimiter::default()),
        passes: PassKey::derived_from(b"the secret of the test deployment"),
    });
    World {
        pages: PublicPageService {
            store: store.clone(),
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
            gate: gate.clone(),
        },
        joins: JoinService {
            store: store.clone(),
            clock: clock.clone(),
            ids: Arc::new(SequentialIds::default()),
            gate,
        },
        store,
        clock,
        hasher,
    }
}

/// The reader's address.
fn reader() -> IpAddr {
    IpAddr::from([203, 0, 113, 9])
}

fn protected(public: &mut PublicSettings) {
    public.access_mode = AccessMode::Protected;
    public.access_password_hash = Some(PlainHasher::hash_of(PAGE_PASSWORD));
}

#[tokio::test]
async fn a_page_that_is_not_enabled_is_not_found() {
    let w = world(|p| p.enabled = false);
    assert_refused(
        w.pages.public_page(&cid("c"), PageKey::Password(None), reader()).await,
        ErrorKind::NotFound,
        "not_found",
    );
}

#[tokio::test]
async fn a_page_of_a_circuit_that_forbids_public_visibility_is_not_found() {
    let w = world(|_| {});
    w.store
        .update_circuit("c", |c| c.settings.allow_public_visibility = false);
    assert_refused(
        w.pages.public_page(&cid("c"), PageKey::Password(None), reader()).await,
        ErrorKind::NotFound,
        "not_found",
    );
}

#[tokio::test]
async fn a_scheduled_page_opens_at_its_date_and_not_before() {
    let w = world(|p| {
        p.access_mode = AccessMode::Scheduled;
        p.scheduled_date = Some(start_of_test() + chrono::Duration::hours(1));
    });
    assert_refused(
        w.pages.public_page(&cid("c"), PageKey::Password(None), reader()).await,
        ErrorKind::NotFound,
        "not_found",
    );
    w.clock.advance(chrono::Duration::hours(1));
    let page = w
        .pages
        .public_page(&cid("c"), PageKey::Password(None), reader())
        .await
        .unwrap();
    assert_eq!(page.settings.public_name, "Cooperativa Cafe Sul");
}

#[tokio::test]
async fn a_protected_page_opens_only_with_its_password() {
    let w = world(protected);
    let missing = w.pages.public_page(&cid("c"), PageKey::Password(None), reader()).await;
    assert_refused(missing, ErrorKind::Unauthenticated, "access_password_required");
    let wrong = w
        .pages
        .public_page(&cid("c"), PageKey::Password(Some("guess")), reader())
        .await;
    assert_refused(wrong, ErrorKind::Unauthenticated, "access_password_required");
    assert!(
        w.pages
            .public_page(&cid("c"), PageKey::Password(Some(PAGE_PASSWORD)), reader())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_pass_opens_a_protected_page_until_it_expires_or_the_password_changes() {
    let w = world(protected);
    let wrong = w.pages.issue_pass(&cid("c"), "guess", reader()).await;
    assert_refused(wrong, ErrorKind::Unauthenticated, "access_password_required");
    let pass = w.pages.issue_pass(&cid("c"), PAGE_PASSWORD, reader()).await.unwrap();
    assert_eq!(pass.lifetime.as_secs(), 12 * 3600);
    let with_pass = |token: String| {
        let pages = &w.pages;
        async move { pages.public_page(&cid("c"), PageKey::Pass(&token), reader()).await }
    };
    assert!(with_pass(pass.token.clone()).await.is_ok());
    assert_refused(
        with_pass("forged".into()).await,
        ErrorKind::Unauthenticated,
        "access_password_required",
    );
    w.clock.advance(chrono::Duration::hours(12));
    assert_refused(
        with_pass(pass.token.clone()).await,
        ErrorKind::Unauthenticated,
        "access_password_required",
    );

    let renewed = w.pages.issue_pass(&cid("c"), PAGE_PASSWORD, reader()).await.unwrap();
    w.store.update_circuit("c", |c| {
        if let Some(public) = c.public.as_mut() {
            public.access_password_hash = Some(PlainHasher::hash_of("a-new-password"));
        }
    });
    assert_refused(
        with_pass(renewed.token).await,
        ErrorKind::Unauthenticated,
        "access_password_required",
    );
}

#[tokio::test]
async fn an_empty_or_oversized_page_password_is_refused_without_hashing() {
    let w = world(protected);
    let empty = w
        .pages
        .public_page(&cid("c"), PageKey::Password(Some("")), reader())
        .await;
    assert_refused(empty, ErrorKind::Unauthenticated, "access_password_required");
    let huge = "x".repeat(257);
    let oversized = w
        .pages
        .public_page(&cid("c"), PageKey::Password(Some(&huge)), reader())
        .await;
    assert_refused(oversized, ErrorKind::Unauthenticated, "access_password_required");
    assert_eq!(w.hasher.verifications(), 0);
}

#[tokio::test]
async fn a_published_item_that_left_the_circuit_is_not_shown() {
    let w = world(|_| {});
    w.store.add_item(&dfid(1), "owner", vec![]);
    w.store.add_item(&dfid(2), "owner", vec![]);
    w.store.put_item_in_circuit("c", &dfid(1));
    w.store
        .commit(vec![Change::SetPublishedItems {
            circuit_id: "c".into(),
            dfids: vec![dfid(1), dfid(2)],
            at: start_of_test(),
        }])
        .await
        .unwrap();
    let page = w
        .pages
        .public_page(&cid("c"), PageKey::Password(None), reader())
        .await
        .unwrap();
    let shown: Vec<&str> = page.published_items.iter().map(|i| i.dfid.as_str()).collect();
    assert_eq!(shown, vec![dfid(1).as_str()]);
}

#[tokio::test]
async fn joining_through_an_auto_approving_page_makes_a_member_at_once() {
    let w = world(|p| p.auto_approve_members = true);
    let joined = w
        .joins
        .public_join(&principal("visitor"), &cid("c"), None, None, &meta())
        .await
        .unwrap();
    assert!(matches!(joined, PublicJoin::Joined(ref m) if m.role == MemberRole::Member));
    assert!(w.store.member_now("c", "visitor").is_some());
}

#[tokio::test]
async fn joining_through_a_page_without_auto_approval_files_a_request_for_the_managers() {
    let w = world(|_| {});
    let joined = w
        .joins
        .public_join(
            &principal("visitor"),
            &cid("c"),
            None,
            Some("we grow arabica".into()),
            &meta(),
        )
        .await
        .unwrap();
    assert!(matches!(joined, PublicJoin::Requested(_)));
    assert!(w.store.member_now("c", "visitor").is_none());
    let mut notified: Vec<String> = w
        .store
        .committed()
        .iter()
        .filter_map(|c| match c {
            Change::Notify(n) => Some(n.user_id.clone()),
            _ => None,
        })
        .collect();
    notified.sort();
    assert_eq!(notified, vec!["admin", "owner"]);
}

#[tokio::test]
async fn a_second_request_while_one_waits_is_a_conflict() {
    let w = world(|_| {});
    let visitor = principal("visitor");
    w.joins
        .request_to_join(&visitor, &cid("c"), None, None, &meta())
        .await
        .unwrap();
    let again = w.joins.request_to_join(&visitor, &cid("c"), None, None, &meta()).await;
    assert_refused(again, ErrorKind::Conflict, "request_pending");
}

#[tokio::test]
async fn joining_a_protected_page_needs_its_password() {
    let w = world(|p| {
        protected(p);
        p.auto_approve_members = true;
    });
    let without = w
        .joins
        .public_join(&principal("visitor"), &cid("c"), None, None, &meta())
        .await;
    assert_refused(without, ErrorKind::Unauthenticated, "access_password_required");
    assert!(w.store.member_now("c", "visitor").is_none());
}

#[tokio::test]
async fn approving_a_join_request_grants_no_more_than_the_approver_may() {
    let w = world(|_| {});
    w.joins
        .request_to_join(&principal("visitor"), &cid("c"), None, None, &meta())
        .await
        .unwrap();
    let as_admin = w
        .joins
        .decide_request(
            &principal("admin"),
            &cid("c"),
            &uid("visitor"),
            JoinDecision::Approve {
                role: Some(MemberRole::Admin),
            },
            &meta(),
        )
        .await;
    assert_refused(as_admin, ErrorKind::Forbidden, "privilege_escalation");
    w.joins
        .decide_request(
            &principal("admin"),
            &cid("c"),
            &uid("visitor"),
            JoinDecision::Approve {
                role: Some(MemberRole::Viewer),
            },
            &meta(),
        )
        .await
        .unwrap();
    assert_eq!(w.store.member_now("c", "visitor").unwrap().role, MemberRole::Viewer);
}

#[tokio::test]
async fn a_rejected_request_adds_nobody() {
    let w = world(|_| {});
    w.joins
        .request_to_join(&principal("visitor"), &cid("c"), None, None, &meta())
        .await
        .unwrap();
    w.joins
        .decide_request(
            &principal("owner"),
            &cid("c"),
            &uid("visitor"),
            JoinDecision::Reject {
                reason: Some("not a cooperative member".into()),
            },
            &meta(),
        )
        .await
        .unwrap();
    assert!(w.store.member_now("c", "visitor").is_none());
}

#[tokio::test]
async fn ten_wrong_page_passwords_lock_that_client_alone() {
    let w = world(protected);
    let guesser = IpAddr::from([198, 51, 100, 66]);
    for _ in 0..10 {
        let wrong = w
            .pages
            .public_page(&cid("c"), PageKey::Password(Some("guess")), guesser)
            .await;
        assert_refused(wrong, ErrorKind::Unauthenticated, "access_password_required");
    }
    let locked = w
        .pages
        .public_page(&cid("c"), PageKey::Password(Some(PAGE_PASSWORD)), guesser)
        .await;
    assert_refused(locked, ErrorKind::RateLimited, "rate_limited");
    assert!(
        w.pages
            .public_page(&cid("c"), PageKey::Password(Some(PAGE_PASSWORD)), reader())
            .await
            .is_ok(),
        "the right password from anyone else still opens the page"
    );
}

#[tokio::test]
async fn an_ipv6_guesser_is_counted_by_its_64_not_by_each_address() {
    let w = world(protected);
    for host in 0..10u16 {
        let address = IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, host]);
        let _ = w
            .pages
            .public_page(&cid("c"), PageKey::Password(Some("guess")), address)
            .await;
    }
    let same_64 = IpAddr::from([0x2001, 0xdb8, 0, 1, 0xffff, 0, 0, 1]);
    let locked = w
        .pages
        .public_page(&cid("c"), PageKey::Password(Some(PAGE_PASSWORD)), same_64)
        .await;
    assert_refused(locked, ErrorKind::RateLimited, "rate_limited");
}

#[tokio::test]
async fn a_join_request_on_a_protected_page_needs_its_password() {
    let w = world(protected);
    let without = w
        .joins
        .request_to_join(&principal("visitor"), &cid("c"), None, None, &meta())
        .await;
    assert_refused(without, ErrorKind::Unauthenticated, "access_password_required");
    w.joins
        .request_to_join(&principal("visitor"), &cid("c"), Some(PAGE_PASSWORD), None, &meta())
        .await
        .unwrap();
}
