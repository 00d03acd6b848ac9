//! EPCs: the names EPCIS events give physical objects, locations and parties. One object can be
//! written as an EPC URN (`urn:epc:id:sgtin:0614141.107346.2017`) or as a GS1 Digital Link URI
//! (`https://example.com/01/00614141073467/21/2017`); both normalise to the one form the CBV 2.0
//! event hash uses (a canonical Digital Link URI on `https://id.gs1.org`, at the finest level of
//! identification, without query string). URIs that carry no GS1 key are EPCs too and stay as
//! sent.

use crate::domain::Error;

/// The longest EPC accepted, in bytes.
pub const MAX_EPC_LEN: usize = 512;

const CANONICAL_HOST: &str = "https://id.gs1.org";

/// An EPC in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Epc(String);

impl Epc {
    /// Parses an EPC as a client sent it. A GS1 key URI is normalised and its check digit (GTIN,
    /// SSCC, GLN) checked; an EPC URN of a scheme this service converts must be well formed; any
    /// other absolute URI is kept as sent.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if text.is_empty() || text.len() > MAX_EPC_LEN || text.chars().any(char::is_whitespace) {
            return Err(epc_error(text, "is not an EPC: 1 to 512 characters, no spaces"));
        }
        if !has_uri_scheme(text) {
            return Err(epc_error(text, "is not a URI (an EPC URN or a GS1 Digital Link URI)"));
        }
        if let Some(canonical) = canonical_gs1_uri(text) {
            check_digits(&canonical).map_err(|why| epc_error(text, why))?;
            return Ok(Self(canonical));
        }
        if let Some(scheme) = converted_urn_scheme(text) {
            return Err(epc_error(text, &format!("is not a well-formed {scheme} EPC URN")));
        }
        if is_digital_link_with_key(text) {
            return Err(epc_error(text, "is not a well-formed GS1 Digital Link URI"));
        }
        Ok(Self(text.to_owned()))
    }

    /// An EPC this service minted or stored, taken as it is.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Epc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn epc_error(text: &str, why: &str) -> Error {
    let shown: String = text.chars().take(80).collect();
    Error::field("epc", format!("{shown:?} {why}"))
}

fn has_uri_scheme(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// The GS1 standard check digit (GS1 General Specifications 7.9.1) of a key without it.
pub fn gs1_check_digit(digits: &str) -> Option<u32> {
    let mut sum = 0;
    for (position, c) in digits.chars().rev().enumerate() {
        let digit = c.to_digit(10)?;
        sum += if position % 2 == 0 { digit * 3 } else { digit };
    }
    Some((10 - sum % 10) % 10)
}

fn has_valid_check_digit(key: &str) -> bool {
    let (body, last) = key.split_at(key.len().saturating_sub(1));
    !body.is_empty()
        && gs1_check_digit(body)
            .zip(last.parse::<u32>().ok())
            .is_some_and(|(a, b)| a == b)
}

/// Checks the check digit of the keys GS1 defines one for and a client types in: GTIN, SSCC, GLN.
fn check_digits(canonical: &str) -> Result<(), &'static str> {
    let path = canonical.strip_prefix(CANONICAL_HOST).unwrap_or(canonical);
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some(ai), Some(key)) = (segments.next(), segments.next()) else {
        return Ok(());
    };
    let (what, valid) = match ai {
        "01" => ("GTIN", has_valid_check_digit(key)),
        "00" => ("SSCC", has_valid_check_digit(key)),
        "414" | "417" => ("GLN", has_valid_check_digit(key)),
        _ => return Ok(()),
    };
    if valid {
        Ok(())
    } else {
        Err(match what {
            "GTIN" => "has a GTIN whose check digit is wrong",
            "SSCC" => "has an SSCC whose check digit is wrong",
            _ => "has a GLN whose check digit is wrong",
        })
    }
}

/// The canonical GS1 Digital Link URI of a URI that carries a GS1 key, or `None` when it carries
/// none this service converts (the event hash then uses the value as sent).
pub fn canonical_gs1_uri(text: &str) -> Option<String> {
    if text.starts_with("urn:epc:") {
        urn_to_digital_link(text)
    } else if text.starts_with("http://") || text.starts_with("https://") {
        normalise_digital_link(text)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// EPC URNs (GS1 EPC Tag Data Standard) to Digital Link

/// Characters an EPC URN's serial may hold (TDS's GS3A3 component, escapes included).
fn is_urn_serial(text: &str, max: usize) -> bool {
    let bytes = text.as_bytes();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let escape = text.get(i + 1..i + 3).unwrap_or("");
            if !is_allowed_escape(escape) {
                return false;
            }
            i += 3;
        } else if bytes[i].is_ascii_alphanumeric() || b"!')(*+,.:;=_-".contains(&bytes[i]) {
            i += 1;
        } else {
            return false;
        }
        count += 1;
    }
    (1..=max).contains(&count)
}

/// Escapes TDS allows in a GS3A3 component: the characters GS1's AI encodable set 82 holds that
/// a URN may not carry bare.
fn is_allowed_escape(escape: &str) -> bool {
    let mut chars = escape.chars();
    let (Some(high), Some(low)) = (chars.next(), chars.next()) else {
        return false;
    };
    let low = low.to_ascii_uppercase();
    let low_hex = low.is_ascii_hexdigit();
    match high {
        '2' => matches!(low, '1' | '2' | '5'..='9' | 'A'..='F'),
        '3' => low_hex,
        '4' => low_hex && low != '0',
        '5' => matches!(low, '0'..='9' | 'A' | 'F'),
        '6' => low_hex && low != '0',
        '7' => matches!(low, '0'..='9' | 'A'),
        _ => false,
    }
}

/// Percent-encodes what a Digital Link path segment may not carry bare (Digital Link table 7-1)
/// and an EPC URN may.
fn encode_for_digital_link(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            _ => out.push(c),
        }
    }
    out
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `company.reference` where the company prefix is 6 to 12 digits and both together have
/// `total` digits.
fn company_and_reference(text: &str, total: usize) -> Option<(&str, &str)> {
    let (company, reference) = text.split_once('.')?;
    let fits = all_digits(company)
        && (6..=12).contains(&company.len())
        && (reference.is_empty() || all_digits(reference))
        && company.len() + reference.len() == total;
    fits.then_some((company, reference))
}

/// GTIN-14 (with its check digit) from a URN's company prefix and item reference (whose first
/// digit is the indicator).
fn gtin_from(company: &str, item_reference: &str) -> Option<String> {
    let (indicator, rest) = item_reference.split_at_checked(1)?;
    let body = format!("{indicator}{company}{rest}");
    Some(format!("{body}{}", gs1_check_digit(&body)?))
}

fn with_check_digit(body: String) -> Option<String> {
    let digit = gs1_check_digit(&body)?;
    Some(format!("{body}{digit}"))
}

/// The URN schemes this service converts to Digital Link.
const CONVERTED_URN_SCHEMES: &[&str] = &[
    "urn:epc:id:sgtin:",
    "urn:epc:id:sscc:",
    "urn:epc:id:sgln:",
    "urn:epc:id:grai:",
    "urn:epc:id:giai:",
    "urn:epc:id:gsrn:",
    "urn:epc:id:gsrnp:",
    "urn:epc:id:gdti:",
    "urn:epc:id:pgln:",
    "urn:epc:class:lgtin:",
    "urn:epc:idpat:sgtin:",
];

fn converted_urn_scheme(text: &str) -> Option<&'static str> {
    CONVERTED_URN_SCHEMES
        .iter()
        .find(|prefix| text.starts_with(**prefix))
        .map(|prefix| prefix.trim_end_matches(':').rsplit(':').next().unwrap_or(prefix))
}

fn urn_to_digital_link(urn: &str) -> Option<String> {
    let (scheme, body) = CONVERTED_URN_SCHEMES
        .iter()
        .find_map(|prefix| urn.strip_prefix(prefix).map(|body| (*prefix, body)))?;
    let path = match scheme {
        "urn:epc:id:sgtin:" | "urn:epc:class:lgtin:" | "urn:epc:idpat:sgtin:" => {
            let (keys, serial) = body.rsplit_once('.')?;
            let (company, item) = company_and_reference(keys, 13)?;
            let gtin = gtin_from(company, item)?;
            match scheme {
                "urn:epc:id:sgtin:" if is_urn_serial(serial, 20) => {
                    format!("/01/{gtin}/21/{}", encode_for_digital_link(serial))
                }
                "urn:epc:class:lgtin:" if is_urn_serial(serial, 20) => {
                    format!("/01/{gtin}/10/{}", encode_for_digital_link(serial))
                }
                "urn:epc:idpat:sgtin:" if serial == "*" => format!("/01/{gtin}"),
                _ => return None,
            }
        }
        "urn:epc:id:sscc:" => {
            let (company, serial) = company_and_reference(body, 17)?;
            let (extension, rest) = serial.split_at_checked(1)?;
            format!("/00/{}", with_check_digit(format!("{extension}{company}{rest}"))?)
        }
        "urn:epc:id:sgln:" => {
            let (keys, extension) = body.rsplit_once('.')?;
            let (company, location) = company_and_reference(keys, 12)?;
            if !is_urn_serial(extension, 20) {
                return None;
            }
            let gln = with_check_digit(format!("{company}{location}"))?;
            if extension == "0" {
                format!("/414/{gln}")
            } else {
                format!("/414/{gln}/254/{}", encode_for_digital_link(extension))
            }
        }
        "urn:epc:id:grai:" | "urn:epc:id:gdti:" => {
            let (keys, serial) = body.rsplit_once('.')?;
            let (company, reference) = company_and_reference(keys, 12)?;
            let (ai, body, max) = if scheme == "urn:epc:id:grai:" {
                ("8003", format!("0{company}{reference}"), 16)
            } else {
                ("253", format!("{company}{reference}"), 17)
            };
            if !is_urn_serial(serial, max) {
                return None;
            }
            format!("/{ai}/{}{}", with_check_digit(body)?, encode_for_digital_link(serial))
        }
        "urn:epc:id:giai:" => {
            let (company, asset) = body.split_once('.')?;
            let fits = all_digits(company) && (6..=12).contains(&company.len());
            if !fits || !is_urn_serial(asset, 30 - company.len()) {
                return None;
            }
            format!("/8004/{company}{}", encode_for_digital_link(asset))
        }
        "urn:epc:id:pgln:" => {
            let (company, party) = company_and_reference(body, 12)?;
            format!("/417/{}", with_check_digit(format!("{company}{party}"))?)
        }
        "urn:epc:id:gsrn:" | "urn:epc:id:gsrnp:" => {
            let (company, reference) = company_and_reference(body, 17)?;
            let ai = if scheme == "urn:epc:id:gsrn:" { "8018" } else { "8017" };
            format!("/{ai}/{}", with_check_digit(format!("{company}{reference}"))?)
        }
        _ => return None,
    };
    Some(format!("{CANONICAL_HOST}{path}"))
}

// ---------------------------------------------------------------------------------------------
// GS1 Digital Link URIs to their canonical form

/// Primary keys' application identifiers and their long names (Digital Link 1.1 section 4).
const PRIMARY_KEYS: &[(&str, &str)] = &[
    ("01", "gtin"),
    ("8006", "itip"),
    ("8010", "cpid"),
    ("414", "gln"),
    ("417", "party"),
    ("8017", "gsrnp"),
    ("8018", "gsrn"),
    ("255", "gcn"),
    ("00", "sscc"),
    ("253", "gdti"),
    ("401", "ginc"),
    ("402", "gsin"),
    ("8003", "grai"),
    ("8004", "giai"),
];

/// Key qualifiers (the ones without a long name are listed by number twice).
const QUALIFIERS: &[(&str, &str)] = &[
    ("22", "cpv"),
    ("10", "lot"),
    ("21", "ser"),
    ("235", "235"),
    ("254", "254"),
];

fn ai_of(segment: &str) -> Option<&'static str> {
    PRIMARY_KEYS
        .iter()
        .chain(QUALIFIERS)
        .find(|(ai, name)| segment == *ai || segment == *name)
        .map(|(ai, _)| *ai)
}

fn is_primary_key(segment: &str) -> bool {
    PRIMARY_KEYS.iter().any(|(ai, name)| segment == *ai || segment == *name)
}

fn is_digital_link_with_key(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) else {
        return false;
    };
    let path = rest.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    segments
        .windows(2)
        .any(|pair| is_primary_key(pair[0]) && pair[1].len() > 4 && pair[1].bytes().take(4).all(|b| b.is_ascii_digit()))
}

/// Characters a canonical Digital Link value may hold (GS1 AI encodable set 82 without the
/// characters Digital Link percent-encodes).
fn is_dl_value(text: &str, max: usize) -> bool {
    text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'"' | b'\'' | b'-' | b'.' | b';'..=b'?' | b'_'))
}

fn digits_of_len(text: &str, len: usize) -> bool {
    text.len() == len && all_digits(text)
}

fn normalise_digital_link(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
    let rest = rest.split('?').next()?;
    if rest.contains('#') {
        return None;
    }
    let segments: Vec<&str> = rest.split('/').skip(1).collect();
    let start = segments.windows(2).position(|pair| {
        is_primary_key(pair[0]) && pair[1].len() > 4 && pair[1].bytes().take(4).all(|b| b.is_ascii_digit())
    })?;
    let path = &segments[start..];
    if !path.len().is_multiple_of(2) {
        return None;
    }
    let mut pairs: Vec<(&str, String)> = Vec::with_capacity(path.len() / 2);
    for pair in path.chunks(2) {
        pairs.push((ai_of(pair[0])?, pair[1].to_owned()));
    }
    let (key_ai, key) = pairs.remove(0);
    let key = if key_ai == "01" {
        match key.len() {
            14 => key,
            13 => format!("0{key}"),
            12 => format!("00{key}"),
            8 => format!("000000{key}"),
            _ => return None,
        }
    } else {
        key
    };
    if matches!(key_ai, "01" | "8006") {
        pairs.retain(|(ai, _)| *ai != "22");
        if pairs.iter().any(|(ai, _)| *ai == "21") {
            pairs.retain(|(ai, _)| *ai != "10");
        }
    }
    let valid = match (key_ai, pairs.as_slice()) {
        ("00", []) => digits_of_len(&key, 18),
        ("01", []) => digits_of_len(&key, 14),
        ("01", [("21" | "10", value)]) => digits_of_len(&key, 14) && is_dl_value(value, 20),
        ("01", [("235", value)]) => digits_of_len(&key, 14) && is_dl_value(value, 28),
        ("414", []) | ("417", []) => digits_of_len(&key, 13),
        ("414", [("254", value)]) => digits_of_len(&key, 13) && is_dl_value(value, 20),
        ("402", []) => digits_of_len(&key, 17),
        ("8017", []) | ("8018", []) => digits_of_len(&key, 18),
        ("8003", []) => key.len() >= 14 && all_digits(&key[..14]) && is_dl_value(&key[14..], 16),
        ("253", []) => key.len() >= 13 && all_digits(&key[..13]) && is_dl_value(&key[13..], 17),
        ("255", []) => key.len() >= 13 && key.len() <= 25 && all_digits(&key),
        ("401", []) | ("8004", []) => is_dl_value(&key, 30),
        ("8006", []) => digits_of_len(&key, 18),
        ("8006", [("21" | "10", value)]) => digits_of_len(&key, 18) && is_dl_value(value, 20),
        _ => false,
    };
    if !valid {
        return None;
    }
    let mut out = format!("{CANONICAL_HOST}/{key_ai}/{key}");
    for (ai, value) in pairs {
        out.push_str(&format!("/{ai}/{value}"));
    }
    Some(out)
}

/// How the service names an item in EPCIS: by its `epc` identifier, else by its resolver URI
/// `{PUBLIC_BASE_URL}/id/{dfid}`.
#[derive(Debug, Clone)]
pub struct ItemNames {
    resolver_base: String,
}

impl ItemNames {
    pub fn new(public_base_url: &str) -> Self {
        Self {
            resolver_base: format!("{}/id/", public_base_url.trim_end_matches('/')),
        }
    }

    pub fn of(&self, dfid: &str, epc: Option<&str>) -> String {
        epc.map_or_else(|| format!("{}{dfid}", self.resolver_base), str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_follow_gs1() {
        // GS1 General Specifications' worked example: GTIN-13 629104150021 + 3.
        assert_eq!(gs1_check_digit("629104150021"), Some(3));
        assert_eq!(gs1_check_digit("0061414107346"), Some(7));
        assert_eq!(gs1_check_digit("12a"), None);
    }

    #[test]
    fn urns_become_canonical_digital_links() {
        let cases = [
            (
                "urn:epc:id:sgtin:0614141.107346.2017",
                "https://id.gs1.org/01/10614141073464/21/2017",
            ),
            (
                "urn:epc:id:sgtin:4012345.011111.987!",
                "https://id.gs1.org/01/04012345111118/21/987%21",
            ),
            (
                "urn:epc:id:sscc:0614141.1234567890",
                "https://id.gs1.org/00/106141412345678908",
            ),
            (
                "urn:epc:id:sgln:0614141.12345.0",
                "https://id.gs1.org/414/0614141123452",
            ),
            (
                "urn:epc:id:sgln:0614141.12345.5678",
                "https://id.gs1.org/414/0614141123452/254/5678",
            ),
            (
                "urn:epc:id:grai:0614141.12345.400",
                "https://id.gs1.org/8003/00614141123452400",
            ),
            (
                "urn:epc:id:giai:0614141.12345400",
                "https://id.gs1.org/8004/061414112345400",
            ),
            (
                "urn:epc:id:gsrn:0614141.1234567890",
                "https://id.gs1.org/8018/061414112345678902",
            ),
            ("urn:epc:id:pgln:7891234.00001", "https://id.gs1.org/417/7891234000019"),
            (
                "urn:epc:class:lgtin:4012345.012345.998877",
                "https://id.gs1.org/01/04012345123456/10/998877",
            ),
            (
                "urn:epc:idpat:sgtin:4012345.012345.*",
                "https://id.gs1.org/01/04012345123456",
            ),
        ];
        for (urn, link) in cases {
            assert_eq!(canonical_gs1_uri(urn).as_deref(), Some(link), "{urn}");
        }
    }

    #[test]
    fn digital_links_normalise_to_one_form() {
        let same = [
            "https://example.com/01/10614141073464/21/2017",
            "http://id.gs1.org/gtin/10614141073464/ser/2017?17=201231",
            "https://brand.example/some/prefix/01/10614141073464/10/LOT1/21/2017",
            "https://id.gs1.org/01/10614141073464/22/A1/21/2017",
        ];
        for uri in same {
            assert_eq!(
                canonical_gs1_uri(uri).as_deref(),
                Some("https://id.gs1.org/01/10614141073464/21/2017"),
                "{uri}"
            );
        }
        assert_eq!(
            canonical_gs1_uri("https://id.gs1.org/01/614141073461").as_deref(),
            Some("https://id.gs1.org/01/00614141073461")
        );
        assert_eq!(
            canonical_gs1_uri("https://example.com/414/7891234000019/254/dock-3").as_deref(),
            Some("https://id.gs1.org/414/7891234000019/254/dock-3")
        );
        assert_eq!(canonical_gs1_uri("https://example.com/cows/1"), None);
        assert_eq!(canonical_gs1_uri("https://id.gs1.org/01/10614141073464/21/a#b"), None);
    }

    #[test]
    fn parse_checks_check_digits_and_keeps_other_uris() {
        let urn = Epc::parse("urn:epc:id:sgtin:0614141.107346.2017").unwrap();
        let link = Epc::parse("https://example.com/01/10614141073464/21/2017").unwrap();
        assert_eq!(urn, link);
        assert!(Epc::parse("https://id.gs1.org/01/10614141073465/21/2017").is_err());
        assert!(Epc::parse("https://id.gs1.org/00/106141412345678909").is_err());
        assert!(Epc::parse("https://id.gs1.org/414/0614141123453").is_err());
        assert!(Epc::parse("urn:epc:id:sgtin:0614141.10734.2017").is_err());
        assert!(Epc::parse("not a uri").is_err());
        assert!(Epc::parse("cow-17").is_err());
        assert_eq!(Epc::parse("urn:example:cow:17").unwrap().as_str(), "urn:example:cow:17");
        assert_eq!(
            Epc::parse("https://farm.example/animals/17").unwrap().as_str(),
            "https://farm.example/animals/17"
        );
    }
}
