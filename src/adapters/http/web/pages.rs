//! The pages' HTML, from templates the compiler checks (maud escapes every value it inserts).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::lang::{Lang, Texts};
use super::story::{Relation, TimelineEntry, VersionEntry};
use super::theme::{DEFAULT_PRIMARY, DEFAULT_SECONDARY, readable_on_white};
use crate::domain::circuits::public_page::PublicSettings;
use crate::domain::items::identifier::Identifier;

/// A rendered page and the hash of its one inline style block, for the Content-Security-Policy.
pub struct Html {
    pub body: String,
    pub style_hash: String,
}

/// What every page shows around its content.
pub struct Frame<'a> {
    pub lang: Lang,
    pub title: &'a str,
    /// The circuit whose page this is (its name, colours, tagline and footer), if any.
    pub circuit: Option<(&'a str, &'a PublicSettings)>,
    /// This page's path, for the language switch.
    pub path: &'a str,
}

pub fn layout(frame: &Frame<'_>, content: Markup) -> Html {
    let t = frame.lang.texts();
    let settings = frame.circuit.map(|(_, s)| s);
    let primary = readable_on_white(settings.and_then(|s| s.primary_color.as_deref()), DEFAULT_PRIMARY);
    let secondary = readable_on_white(settings.and_then(|s| s.secondary_color.as_deref()), DEFAULT_SECONDARY);
    let style = format!(":root{{--primary:{primary};--secondary:{secondary}}}");
    let style_hash = format!("sha256-{}", B64.encode(Sha256::digest(style.as_bytes())));
    let other = frame.lang.other();
    let markup = html! {
        (DOCTYPE)
        html lang=(frame.lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (frame.title) }
                link rel="stylesheet" href="/assets/site.css";
                style { (PreEscaped(&style)) }
                script src="/assets/verify.js" defer {}
            }
            body {
                header.site {
                    @if let Some((circuit_id, s)) = frame.circuit {
                        a.brand href=(format!("/p/{circuit_id}?lang={}", frame.lang.tag())) { (s.public_name) }
                        @if let Some(tagline) = &s.tagline { p.tagline { (tagline) } }
                    } @else {
                        span.brand { "DeFarm" }
                    }
                    a.lang href=(format!("{}?lang={}", frame.path, other.tag())) lang=(other.tag()) hreflang=(other.tag()) {
                        (other.texts().language_name)
                    }
                }
                main { (content) }
                footer.site {
                    @if let Some(footer) = settings.and_then(|s| s.footer_text.as_ref()) { p { (footer) } }
                    p { (t.powered_by) }
                }
            }
        }
    };
    Html {
        body: markup.into_string(),
        style_hash,
    }
}

/// A published item on the circuit page.
pub struct ItemSummary<'a> {
    pub dfid: &'a str,
    pub identifiers: Vec<&'a Identifier>,
    pub latest: Option<TimelineEntry>,
}

pub struct CircuitContent<'a> {
    pub circuit_id: &'a str,
    pub settings: &'a PublicSettings,
    pub member_count: u64,
    pub items: Vec<ItemSummary<'a>>,
}

pub fn circuit(lang: Lang, page: &CircuitContent<'_>) -> Markup {
    let t = lang.texts();
    let s = page.settings;
    html! {
        h1 { (s.public_name) }
        @if let Some(description) = &s.public_description { p.description { (description) } }
        p.meta {
            (page.member_count) " " (t.members)
            @if let Some(since) = &s.public_since { " · " (t.public_since) " " (since.format("%Y-%m-%d")) }
        }
        h2 { (t.published_items) }
        @if page.items.is_empty() { p { (t.no_published_items) } }
        ul.items {
            @for item in &page.items {
                li {
                    a href=(format!("/p/{}/items/{}?lang={}", page.circuit_id, item.dfid, lang.tag())) {
                        (item_title(item.dfid, &item.identifiers))
                    }
                    (identifier_list(&item.identifiers))
                    @if let Some(latest) = &item.latest {
                        p.latest { (t.latest_event) ": " (latest.title) " · " (latest.when) }
                    }
                }
            }
        }
    }
}

pub struct ItemContent<'a> {
    pub circuit_id: &'a str,
    pub dfid: &'a str,
    pub identifiers: Vec<&'a Identifier>,
    pub timeline: Vec<TimelineEntry>,
    pub events_truncated: bool,
    pub versions: Vec<VersionEntry>,
    pub lineage: Vec<(Relation, String)>,
    pub verifier_key: &'a str,
}

pub fn item_title(dfid: &str, identifiers: &[&Identifier]) -> String {
    identifiers.first().map_or_else(|| dfid.to_owned(), |i| i.value.clone())
}

pub fn item(lang: Lang, page: &ItemContent<'_>) -> Markup {
    let t = lang.texts();
    let base = format!("/p/{}/items/{}", page.circuit_id, page.dfid);
    let proof = format!("{base}/proof.json");
    html! {
        h1 { (item_title(page.dfid, &page.identifiers)) }
        p.dfid { code { (page.dfid) } }
        section #verification data-verification="pending" data-proof=(proof) aria-live="polite" {
            h2 { (t.verification) }
            p.outcome { (t.verification_pending) }
            noscript {
                p {
                    (t.needs_javascript) " "
                    code { "defarm verify proof.json --key '" (page.verifier_key) "'" }
                }
            }
            p { a href=(proof) download="proof.json" { (t.download_proof) } }
            details.expert {
                summary { "Checkpoint" }
                p { (t.verify_offline) }
                dl {
                    dt { "key" } dd { code { (page.verifier_key) } }
                }
                pre.checkpoint {}
            }
        }
        section {
            h2 { (t.identifiers) }
            (identifier_list(&page.identifiers))
            p { a href=(format!("{base}/qr.svg")) { img.qr src=(format!("{base}/qr.svg")) alt=(t.qr_code) width="160" height="160"; } }
        }
        section {
            h2 { (t.history) }
            @if page.timeline.is_empty() { p { (t.no_public_events) } }
            ol.timeline {
                @for entry in &page.timeline {
                    li data-event=(entry.event_id) {
                        p.when { time { (entry.when) } }
                        p.title { strong { (entry.title) } }
                        @if !entry.what.is_empty() { p { (t.what) ": " (entry.what.join(" · ")) } }
                        @if !entry.where_.is_empty() { p { (t.where_) ": " (entry.where_.join(" · ")) } }
                        @if !entry.why.is_empty() { p { (t.why) ": " (entry.why.join(" · ")) } }
                        @if !entry.details.is_empty() {
                            dl {
                                @for (key, value) in &entry.details { dt { (key) } dd { (value) } }
                            }
                        }
                    }
                }
            }
            @if page.events_truncated { p { (t.more_events) } }
        }
        @if !page.lineage.is_empty() {
            section {
                h2 { (t.lineage) }
                ul.lineage {
                    @for (relation, dfid) in &page.lineage {
                        li {
                            (relation_name(t, *relation)) ": "
                            a href=(format!("/p/{}/items/{dfid}?lang={}", page.circuit_id, lang.tag())) { code { (dfid) } }
                        }
                    }
                }
            }
        }
        section {
            h2 { (t.versions) }
            ul.versions {
                @for version in &page.versions {
                    li {
                        (t.version) " " (version.number) " · " (version.kind) " · " (version.when)
                        @if version.withheld { p.withheld { (t.withheld) } }
                        @if !version.changes.is_empty() {
                            ul { @for change in &version.changes { li { (change) } } }
                        }
                    }
                }
            }
        }
        p { a href=(format!("/p/{}?lang={}", page.circuit_id, lang.tag())) { (t.back_to_circuit) } }
    }
}

fn relation_name(t: &Texts, relation: Relation) -> &'static str {
    match relation {
        Relation::MadeFrom => t.made_from,
        Relation::WentInto => t.went_into,
        Relation::ContainedIn => t.contained_in,
        Relation::Contains => t.contains,
        Relation::Related => t.related,
    }
}

fn identifier_list(identifiers: &[&Identifier]) -> Markup {
    html! {
        @if !identifiers.is_empty() {
            dl.identifiers {
                @for identifier in identifiers { dt { (identifier.key) } dd { (identifier.value) } }
            }
        }
    }
}

/// Why a page shows nothing: not found, a password needed, too many attempts, busy, failed.
pub enum Notice {
    NotFound,
    Password {
        action: String,
        item: Option<String>,
        wrong: bool,
    },
    TooManyAttempts,
    Busy,
    Failed,
}

pub fn notice(lang: Lang, notice: &Notice) -> (String, Markup) {
    let t = lang.texts();
    match notice {
        Notice::NotFound => (
            t.not_found_title.to_owned(),
            message(t.not_found_title, t.not_found_text),
        ),
        Notice::TooManyAttempts => (
            t.password_title.to_owned(),
            message(t.password_title, t.too_many_attempts),
        ),
        Notice::Busy => (t.busy_title.to_owned(), message(t.busy_title, t.busy_text)),
        Notice::Failed => (t.error_title.to_owned(), message(t.error_title, t.busy_text)),
        Notice::Password { action, item, wrong } => (
            t.password_title.to_owned(),
            html! {
                h1 { (t.password_title) }
                p { (t.password_text) }
                @if *wrong { p.error role="alert" { (t.password_wrong) } }
                form method="post" action=(action) {
                    label for="password" { (t.password_label) }
                    input #password type="password" name="password" required maxlength="256" autocomplete="current-password";
                    input type="hidden" name="lang" value=(lang.tag());
                    @if let Some(item) = item { input type="hidden" name="item" value=(item); }
                    button type="submit" { (t.password_submit) }
                }
            },
        ),
    }
}

fn message(title: &str, text: &str) -> Markup {
    html! {
        h1 { (title) }
        p { (text) }
    }
}
