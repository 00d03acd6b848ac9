//! The pages people open in a browser (WEB.md): a circuit's public page, its published items
//! with their verified history, QR codes and proof bundles, under exactly the public page rules
//! of the API. Server-rendered HTML that works without JavaScript; one script (the verification
//! panel) and one stylesheet, both served by the binary; nothing from any other origin.

mod lang;
mod pages;
mod story;
mod theme;

use std::sync::Arc;

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, handler};
use poem_openapi::types::ToJSON;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

use self::lang::Lang;
use self::pages::{Frame, Html, Notice};
use super::AppState;
use super::caller::PublicClient;
use super::history_api::ProofBundleView;
use crate::domain::circuits::circuit::CircuitId;
use crate::domain::circuits::public_page::{AccessMode, PageKey, PublicSettings};
use crate::domain::items::dfid::Dfid;
use crate::domain::items::identifier::Identifier;
use crate::domain::items::item::Item;
use crate::domain::{Error, ErrorKind};

/// The cookie a page pass lives in, scoped to its circuit's pages.
const PASS_COOKIE: &str = "defarm_page";

/// Newest `Public` events an item page lists (the proof bundle carries more), so a page stays
/// light whatever the item's history.
const PAGE_EVENTS: usize = 100;

const SITE_CSS: &str = include_str!("assets/site.css");
const VERIFY_JS: &str = include_str!("assets/verify.js");

/// The pages' routes, added to the application's.
pub fn mount(route: Route) -> Route {
    route
        .at("/p/:circuit_id", poem::get(circuit_page))
        .at("/p/:circuit_id/unlock", poem::post(unlock))
        .at("/p/:circuit_id/items/:dfid", poem::get(item_page))
        .at("/p/:circuit_id/items/:dfid/qr.svg", poem::get(qr_code))
        .at("/p/:circuit_id/items/:dfid/proof.json", poem::get(proof_bundle))
        .at(
            "/assets/site.css",
            poem::get(asset.data(("text/css; charset=utf-8", SITE_CSS))),
        )
        .at(
            "/assets/verify.js",
            poem::get(asset.data(("text/javascript; charset=utf-8", VERIFY_JS))),
        )
}

type State<'a> = Data<&'a Arc<AppState>>;

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// Who reads, in which language, and with which pass.
struct Reader {
    lang: Lang,
    pass: Option<String>,
    client: PublicClient,
}

impl Reader {
    fn new(req: &Request, query: &LangQuery, client: PublicClient) -> Self {
        let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Self {
            lang: Lang::choose(query.lang.as_deref(), accept),
            pass: pass_cookie(req),
            client,
        }
    }

    /// An item the circuit's page publishes, through the page's gate with this reader's pass.
    async fn published_item(
        &self,
        state: &AppState,
        circuit_id: &str,
        dfid: &str,
    ) -> Result<(CircuitId, PublicSettings, Item), Error> {
        let id = CircuitId::parse(circuit_id)?;
        let (settings, item) = state
            .public_pages
            .published_item(&id, dfid, self.key(), self.client.meta.ip)
            .await?;
        Ok((id, settings, item))
    }

    fn key(&self) -> PageKey<'_> {
        match &self.pass {
            Some(pass) => PageKey::Pass(pass),
            None => PageKey::Password(None),
        }
    }
}

fn pass_cookie(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(PASS_COOKIE)?.strip_prefix('='))
        .filter(|pass| pass.len() <= 256)
        .map(str::to_owned)
}

#[handler]
async fn circuit_page(
    req: &Request,
    state: State<'_>,
    client: PublicClient,
    Path(circuit_id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Response {
    let reader = Reader::new(req, &query, client);
    let path = format!("/p/{circuit_id}");
    let page = async {
        let id = CircuitId::parse(&circuit_id)?;
        state
            .public_pages
            .public_page(&id, reader.key(), reader.client.meta.ip)
            .await
    };
    let page = match page.await {
        Ok(page) => page,
        Err(err) => return refusal(&reader, &circuit_id, None, &path, err),
    };
    let items = page
        .published_items
        .iter()
        .map(|item| pages::ItemSummary {
            dfid: &item.dfid,
            identifiers: item.identifiers.iter().collect(),
            latest: story::latest(&item.events),
        })
        .collect();
    let content = pages::circuit(
        reader.lang,
        &pages::CircuitContent {
            circuit_id: &page.circuit_id,
            settings: &page.settings,
            member_count: page.member_count,
            items,
        },
    );
    let frame = Frame {
        lang: reader.lang,
        title: &page.settings.public_name,
        circuit: Some((&page.circuit_id, &page.settings)),
        path: &path,
    };
    html_response(StatusCode::OK, &page.settings, pages::layout(&frame, content))
}

#[handler]
async fn item_page(
    req: &Request,
    state: State<'_>,
    client: PublicClient,
    Path((circuit_id, dfid)): Path<(String, String)>,
    Query(query): Query<LangQuery>,
) -> Response {
    let reader = Reader::new(req, &query, client);
    let path = format!("/p/{circuit_id}/items/{dfid}");
    let found = async {
        let (id, settings, item) = reader.published_item(&state, &circuit_id, &dfid).await?;
        let record = state.history.public_record(&item, PAGE_EVENTS).await?;
        let linked = state
            .public_pages
            .published_by_epc(&id, &story::mentioned_epcs(&record.events))
            .await?;
        let lineage = story::lineage(&record.events, &item.dfid, &linked);
        Ok::<_, Error>((settings, item, record, lineage))
    };
    let (settings, item, record, lineage) = match found.await {
        Ok(found) => found,
        Err(err) => return refusal(&reader, &circuit_id, Some(&dfid), &path, err),
    };
    let identifiers: Vec<&Identifier> = item.identifiers.iter().filter(|i| i.is_canonical()).collect();
    let content = pages::item(
        reader.lang,
        &pages::ItemContent {
            circuit_id: &circuit_id,
            dfid: &item.dfid,
            identifiers: identifiers.clone(),
            timeline: story::timeline(&record.events),
            events_truncated: record.events_truncated,
            versions: story::versions(&record.versions),
            lineage,
            verifier_key: &record.verifier_key,
        },
    );
    let title = pages::item_title(&item.dfid, &identifiers);
    let frame = Frame {
        lang: reader.lang,
        title: &title,
        circuit: Some((&circuit_id, &settings)),
        path: &path,
    };
    html_response(StatusCode::OK, &settings, pages::layout(&frame, content))
}

/// The QR code of the item's EPC, `{PUBLIC_BASE_URL}/id/{dfid}`: what a label prints, and
/// what the resolver sends back here.
#[handler]
async fn qr_code(
    req: &Request,
    state: State<'_>,
    client: PublicClient,
    Path((circuit_id, dfid)): Path<(String, String)>,
) -> Response {
    let reader = Reader::new(req, &LangQuery { lang: None }, client);
    let (_, settings, item) = match reader.published_item(&state, &circuit_id, &dfid).await {
        Ok(found) => found,
        Err(err) => return plain_refusal(err),
    };
    let url = format!("{}/id/{}", state.public_base_url, item.dfid);
    let svg = match QrCode::new(url.as_bytes()) {
        Ok(code) => code.render::<svg::Color<'_>>().min_dimensions(160, 160).build(),
        Err(err) => return plain_refusal(Error::internal(format!("QR code: {err}"))),
    };
    Response::builder()
        .content_type("image/svg+xml")
        .header(header::CACHE_CONTROL, cache_control(&settings))
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        )
        .body(svg)
}

/// The public proof bundle, as a download the verification panel and `defarm verify` read.
#[handler]
async fn proof_bundle(
    req: &Request,
    state: State<'_>,
    client: PublicClient,
    Path((circuit_id, dfid)): Path<(String, String)>,
) -> Response {
    let reader = Reader::new(req, &LangQuery { lang: None }, client);
    let bundle = async {
        let (_, settings, item) = reader.published_item(&state, &circuit_id, &dfid).await?;
        Ok::<_, Error>((settings, state.history.public_bundle(&item).await?))
    };
    let (settings, bundle) = match bundle.await {
        Ok(found) => found,
        Err(err) => return plain_refusal(err),
    };
    let json = ProofBundleView::from(bundle).to_json().unwrap_or_default();
    Response::builder()
        .content_type("application/json")
        .header(header::CONTENT_DISPOSITION, "attachment; filename=\"proof.json\"")
        .header(header::CACHE_CONTROL, cache_control(&settings))
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(json.to_string())
}

#[derive(Deserialize)]
struct UnlockForm {
    password: String,
    lang: Option<String>,
    /// The item page to return to; the circuit page otherwise.
    item: Option<String>,
}

/// The password form of a `Protected` page: the password is checked (and a failure counted)
/// exactly as the API checks `X-Access-Password`; success sets the page pass cookie and sends
/// the reader back to the page they asked for.
#[handler]
async fn unlock(
    req: &Request,
    state: State<'_>,
    client: PublicClient,
    Path(circuit_id): Path<String>,
    Form(form): Form<UnlockForm>,
) -> Response {
    let reader = Reader::new(
        req,
        &LangQuery {
            lang: form.lang.clone(),
        },
        client,
    );
    // Only a DFID goes into the address sent back, so the form cannot redirect anywhere else.
    let item = form.item.filter(|dfid| Dfid::parse(dfid).is_ok());
    let back = match &item {
        Some(dfid) => format!("/p/{circuit_id}/items/{dfid}"),
        None => format!("/p/{circuit_id}"),
    };
    let issued = async {
        let id = CircuitId::parse(&circuit_id)?;
        state
            .public_pages
            .issue_pass(&id, &form.password, reader.client.meta.ip)
            .await
    };
    match issued.await {
        Ok(pass) => {
            let secure = if state.public_base_url.starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{PASS_COOKIE}={}; Path=/p/{circuit_id}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
                pass.token,
                pass.lifetime.as_secs()
            );
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, format!("{back}?lang={}", reader.lang.tag()))
                .header(header::SET_COOKIE, cookie)
                .header(header::CACHE_CONTROL, "no-store")
                .finish()
        }
        Err(err) => {
            let wrong = err.code == "access_password_required";
            refusal_with(&reader, &circuit_id, item.as_deref(), &back, err, wrong)
        }
    }
}

#[handler]
fn asset(Data((content_type, body)): Data<&(&'static str, &'static str)>) -> Response {
    Response::builder()
        .content_type(*content_type)
        // Cached for a day; the binary's pages link no other version.
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(*body)
}

/// Protected pages are the reader's alone; public ones may be kept briefly by a cache.
fn cache_control(settings: &PublicSettings) -> &'static str {
    match settings.access_mode {
        AccessMode::Protected => "private, no-store",
        _ => "public, max-age=30",
    }
}

fn html_response(status: StatusCode, settings: &PublicSettings, html: Html) -> Response {
    with_page_headers(
        Response::builder()
            .status(status)
            .header(header::CACHE_CONTROL, cache_control(settings))
            .body(html.body),
        &html.style_hash,
    )
}

/// The headers every page carries: the strict policy (no inline script, no other origin; the
/// one inline style block allowed by its hash), no sniffing, no referrer.
fn with_page_headers(mut response: Response, style_hash: &str) -> Response {
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' '{style_hash}'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    response
}

fn refusal(reader: &Reader, circuit_id: &str, item: Option<&str>, path: &str, err: Error) -> Response {
    refusal_with(reader, circuit_id, item, path, err, false)
}

/// A page that could not be shown, as a page: the same statuses the API gives, in words.
fn refusal_with(
    reader: &Reader,
    circuit_id: &str,
    item: Option<&str>,
    path: &str,
    err: Error,
    wrong: bool,
) -> Response {
    let (status, notice) = match err.kind {
        ErrorKind::NotFound | ErrorKind::Invalid => (StatusCode::NOT_FOUND, Notice::NotFound),
        ErrorKind::Unauthenticated => (
            StatusCode::UNAUTHORIZED,
            Notice::Password {
                action: format!("/p/{circuit_id}/unlock"),
                item: item.map(str::to_owned),
                wrong,
            },
        ),
        ErrorKind::RateLimited => (StatusCode::TOO_MANY_REQUESTS, Notice::TooManyAttempts),
        ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, Notice::Busy),
        _ => {
            tracing::error!(error = %err.message, code = %err.code, "public page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, Notice::Failed)
        }
    };
    let mut response = notice_page(reader.lang, status, &notice, path);
    if let Some(retry) = err.retry_after_secs
        && let Ok(value) = HeaderValue::from_str(&retry.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub(super) fn notice_page(lang: Lang, status: StatusCode, notice: &Notice, path: &str) -> Response {
    let (title, content) = pages::notice(lang, notice);
    let frame = Frame {
        lang,
        title: &title,
        circuit: None,
        path,
    };
    let html = pages::layout(&frame, content);
    with_page_headers(
        Response::builder()
            .status(status)
            .header(header::CACHE_CONTROL, "no-store")
            .body(html.body),
        &html.style_hash,
    )
}

/// A refused download (QR code, proof bundle): the API's JSON error.
fn plain_refusal(err: Error) -> Response {
    super::ApiError(err).into_response()
}

/// The resolver `/id/{dfid}` is an API operation (its 404 is JSON for programs); a browser
/// asking for HTML gets its 404 as a page instead.
pub fn resolver_pages<E: Endpoint + 'static>(endpoint: E) -> impl Endpoint {
    endpoint.around(|inner, req| async move {
        let wants_page = req.uri().path().starts_with("/id/")
            && req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"));
        let lang = Lang::choose(
            None,
            req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        );
        let path = req.uri().path().to_owned();
        let response = match inner.call(req).await {
            Ok(response) => response.into_response(),
            Err(err) => err.into_response(),
        };
        if wants_page && response.status() == StatusCode::NOT_FOUND {
            return Ok(notice_page(lang, StatusCode::NOT_FOUND, &Notice::NotFound, &path));
        }
        Ok(response)
    })
}
