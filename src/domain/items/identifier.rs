//! Identifiers: canonical ones name a registry (CPF, SISBOV...) and identify one item in the
//! whole system; contextual ones are an owner's own labels.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::Error;

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Namespace {
        Bovino = "bovino",
        Aves = "aves",
        Suino = "suino",
        Soja = "soja",
        Milho = "milho",
        Algodao = "algodao",
        Cafe = "cafe",
        Leite = "leite",
        Generic = "generic",
    }
}

impl FromStr for Namespace {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Self::from_text(text).ok_or_else(|| Error::field("namespace", format!("unknown namespace {text:?}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IdType {
    Canonical,
    Contextual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    User,
    Organization,
    Circuit,
}

/// The registries a canonical identifier can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Registry {
    Sisbov,
    Cpf,
    Cnpj,
    Car,
    Nirf,
    Ie,
    Rfid,
    /// EPCIS 2.0's object names: EPC URNs and GS1 Digital Link URIs, normalised to one form.
    Epc,
}

/// Brazilian state codes, which start a CAR.
const STATES: &[&str] = &[
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA", "PB", "PR", "PE", "PI", "RJ",
    "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
];

impl Registry {
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key.trim().to_ascii_lowercase().as_str() {
            "sisbov" => Registry::Sisbov,
            "cpf" => Registry::Cpf,
            "cnpj" => Registry::Cnpj,
            "car" => Registry::Car,
            "nirf" => Registry::Nirf,
            "ie" => Registry::Ie,
            "rfid" => Registry::Rfid,
            "epc" => Registry::Epc,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            Registry::Sisbov => "sisbov",
            Registry::Cpf => "cpf",
            Registry::Cnpj => "cnpj",
            Registry::Car => "car",
            Registry::Nirf => "nirf",
            Registry::Ie => "ie",
            Registry::Rfid => "rfid",
            Registry::Epc => "epc",
        }
    }

    /// The value as compared and stored, or why it is not a valid number of this registry.
    pub fn normalize(self, value: &str) -> Result<String, &'static str> {
        let value = value.trim();
        let without = |chars: &[char]| value.chars().filter(|c| !chars.contains(c)).collect::<String>();
        match self {
            Registry::Sisbov => {
                let upper = value.to_ascii_uppercase();
                let digits = upper.strip_prefix("BR").unwrap_or("");
                if digits.len() == 12 && digits.chars().all(|c| c.is_ascii_digit()) {
                    Ok(upper)
                } else {
                    Err("SISBOV is BR followed by 12 digits")
                }
            }
            Registry::Cpf => {
                let digits = without(&['.', '-', ' ']);
                if is_valid_cpf(&digits) {
                    Ok(digits)
                } else {
                    Err("not a valid CPF (11 digits with check digits)")
                }
            }
            Registry::Cnpj => {
                let digits = without(&['.', '-', '/', ' ']);
                if is_valid_cnpj(&digits) {
                    Ok(digits)
                } else {
                    Err("not a valid CNPJ (14 digits with check digits)")
                }
            }
            Registry::Car => {
                let upper = value.to_ascii_uppercase();
                let valid = upper.split_once('-').is_some_and(|(state, rest)| {
                    STATES.contains(&state)
                        && rest.len() >= 6
                        && rest
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
                });
                if valid && upper.len() <= 64 {
                    Ok(upper)
                } else {
                    Err("CAR starts with a state code, e.g. MT-5100201-...")
                }
            }
            Registry::Nirf => {
                let digits = without(&['.', '-', ' ']);
                if digits.len() >= 8 && digits.len() <= 16 && digits.chars().all(|c| c.is_ascii_digit()) {
                    Ok(digits)
                } else {
                    Err("NIRF has at least 8 digits")
                }
            }
            Registry::Ie => {
                let compact = without(&['.', '-', '/', ' ']).to_ascii_uppercase();
                if compact.len() >= 8 && compact.len() <= 20 && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
                    Ok(compact)
                } else {
                    Err("IE has at least 8 characters")
                }
            }
            Registry::Rfid => {
                let upper = value.to_ascii_uppercase();
                if upper.len() >= 10 && upper.len() <= 64 && upper.chars().all(|c| c.is_ascii_alphanumeric()) {
                    Ok(upper)
                } else {
                    Err("RFID has at least 10 letters or digits")
                }
            }
            Registry::Epc => crate::domain::epcis::Epc::parse(value)
                .map(|epc| epc.as_str().to_owned())
                .map_err(|_| "EPC is an EPC URN or a URI (GS1 Digital Link keys with valid check digits)"),
        }
    }
}

fn digits_of(text: &str) -> Option<Vec<u32>> {
    text.chars().map(|c| c.to_digit(10)).collect()
}

fn all_same(digits: &[u32]) -> bool {
    digits.windows(2).all(|pair| pair[0] == pair[1])
}

/// CPF: 11 digits, two mod-11 check digits, not all digits equal.
pub fn is_valid_cpf(text: &str) -> bool {
    let Some(d) = digits_of(text).filter(|d| d.len() == 11) else {
        return false;
    };
    if all_same(&d) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = (0..len).map(|i| d[i] * (len as u32 + 1 - i as u32)).sum();
        let rest = (sum * 10) % 11;
        if rest == 10 { 0 } else { rest }
    };
    check(9) == d[9] && check(10) == d[10]
}

/// CNPJ: 14 digits, two mod-11 check digits with weights 5..2,9..2 and 6..2,9..2.
pub fn is_valid_cnpj(text: &str) -> bool {
    let Some(d) = digits_of(text).filter(|d| d.len() == 14) else {
        return false;
    };
    if all_same(&d) {
        return false;
    }
    let check = |weights: &[u32]| {
        let sum: u32 = weights.iter().zip(&d).map(|(w, digit)| w * digit).sum();
        let rest = sum % 11;
        if rest < 2 { 0 } else { 11 - rest }
    };
    check(&[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[12] && check(&[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[13]
}

/// A validated, normalised identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identifier {
    pub namespace: Namespace,
    pub key: String,
    pub value: String,
    pub id_type: IdType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub verified: bool,
    /// Who added it to the item: a `user`-scoped contextual identifier is shown to them alone.
    /// Absent on identifiers stored before it was recorded (taken to be the owner's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<String>,
}

impl Identifier {
    /// The same identifier, recorded as added by `user_id`.
    pub fn added_by(self, user_id: &str) -> Self {
        Self {
            added_by: Some(user_id.to_owned()),
            ..self
        }
    }

    /// Whether `viewer` may see it on an item owned by `owner`.
    pub fn visible_to(&self, viewer: &str, owner: &str) -> bool {
        self.is_shared() || self.added_by.as_deref().unwrap_or(owner) == viewer
    }

    /// Whether everyone who may see the item sees it (it is not one user's own).
    pub fn is_shared(&self) -> bool {
        self.id_type == IdType::Canonical || self.scope != Some(Scope::User)
    }
}

/// An identifier as a client sends it.
#[derive(Debug, Clone, Default)]
pub struct IdentifierInput {
    pub namespace: Option<Namespace>,
    pub key: String,
    pub value: String,
    pub id_type: Option<IdType>,
    pub scope: Option<Scope>,
    pub verified: Option<bool>,
}

impl Identifier {
    /// Validates and normalises `input`; `index` names it in error details.
    pub fn from_input(input: IdentifierInput, index: usize, default_namespace: Namespace) -> Result<Self, Error> {
        let field = format!("identifiers[{index}]");
        let id_type = input.id_type.unwrap_or(if Registry::parse(&input.key).is_some() {
            IdType::Canonical
        } else {
            IdType::Contextual
        });
        let namespace = input.namespace.unwrap_or(default_namespace);
        match id_type {
            IdType::Canonical => {
                let registry = Registry::parse(&input.key).ok_or_else(|| {
                    Error::invalid(
                        "unknown_registry",
                        format!("{field}: {:?} is not a known registry", input.key),
                    )
                    .with_details(json!({
                        "field": field,
                        "key": input.key,
                        "registries": ["sisbov", "cpf", "cnpj", "car", "nirf", "ie", "rfid"],
                    }))
                })?;
                let value = registry.normalize(&input.value).map_err(|rule| {
                    Error::invalid("invalid_identifier", format!("{field}: {rule}"))
                        .with_details(json!({ "field": field, "key": registry.key(), "rule": rule }))
                })?;
                Ok(Identifier {
                    namespace,
                    key: registry.key().to_owned(),
                    value,
                    id_type,
                    scope: None,
                    verified: input.verified.unwrap_or(false),
                    added_by: None,
                })
            }
            IdType::Contextual => {
                let key = input.key.trim();
                let value = input.value.trim();
                if key.is_empty() || key.chars().count() > 64 || key.chars().any(char::is_control) {
                    return Err(Error::field(&format!("{field}.key"), "1 to 64 characters"));
                }
                if value.is_empty() || value.chars().count() > 256 || value.chars().any(char::is_control) {
                    return Err(Error::field(&format!("{field}.value"), "1 to 256 characters"));
                }
                Ok(Identifier {
                    namespace,
                    key: key.to_owned(),
                    value: value.to_owned(),
                    id_type,
                    scope: Some(input.scope.unwrap_or(Scope::User)),
                    verified: input.verified.unwrap_or(false),
                    added_by: None,
                })
            }
        }
    }

    pub fn is_canonical(&self) -> bool {
        self.id_type == IdType::Canonical
    }

    /// What makes two identifiers the same one.
    pub fn same_as(&self, other: &Identifier) -> bool {
        self.id_type == other.id_type
            && self.key == other.key
            && self.value == other.value
            && (self.is_canonical() || self.namespace == other.namespace)
    }
}

/// At most this many identifiers per request or item.
pub const MAX_IDENTIFIERS: usize = 100;

/// Validates a list of inputs; duplicates collapse.
pub fn parse_identifiers(inputs: Vec<IdentifierInput>, default_namespace: Namespace) -> Result<Vec<Identifier>, Error> {
    if inputs.len() > MAX_IDENTIFIERS {
        return Err(Error::field("identifiers", format!("at most {MAX_IDENTIFIERS}")));
    }
    let mut parsed: Vec<Identifier> = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        let identifier = Identifier::from_input(input, index, default_namespace)?;
        merge_identifier(&mut parsed, identifier);
    }
    Ok(parsed)
}

/// Adds `identifier` unless an equal one is there. Returns whether it was added.
pub fn merge_identifier(list: &mut Vec<Identifier>, identifier: Identifier) -> bool {
    if list.iter().any(|existing| existing.same_as(&identifier)) {
        return false;
    }
    list.push(identifier);
    true
}

/// Why a canonical identifier cannot join `dfid`: it names another item.
pub(crate) fn identifier_conflict(identifier: &Identifier) -> Error {
    Error::conflict(
        "identifier_conflict",
        "a canonical identifier already names another item",
    )
    .with_details(json!({ "identifier": { "key": identifier.key, "value": identifier.value } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_scoped_identifiers_are_visible_to_who_added_them() {
        let input = |scope| IdentifierInput {
            key: "brinco".into(),
            value: "B-7".into(),
            id_type: Some(IdType::Contextual),
            scope: Some(scope),
            ..IdentifierInput::default()
        };
        let mine = Identifier::from_input(input(Scope::User), 0, Namespace::Generic)
            .unwrap()
            .added_by("bob");
        assert!(mine.visible_to("bob", "alice") && !mine.visible_to("alice", "alice"));
        let legacy = Identifier::from_input(input(Scope::User), 0, Namespace::Generic).unwrap();
        assert!(legacy.visible_to("alice", "alice") && !legacy.visible_to("bob", "alice"));
        let shared = Identifier::from_input(input(Scope::Organization), 0, Namespace::Generic)
            .unwrap()
            .added_by("bob");
        assert!(shared.visible_to("alice", "alice"));
    }

    fn input(key: &str, value: &str) -> IdentifierInput {
        IdentifierInput {
            key: key.into(),
            value: value.into(),
            ..IdentifierInput::default()
        }
    }

    #[test]
    fn cpf_vectors() {
        assert!(is_valid_cpf("52998224725"));
        assert_eq!(Registry::Cpf.normalize("529.982.247-25").unwrap(), "52998224725");
        for position in 0..11 {
            let mut digits: Vec<char> = "52998224725".chars().collect();
            digits[position] = if digits[position] == '9' {
                '0'
            } else {
                char::from(digits[position] as u8 + 1)
            };
            assert!(
                !is_valid_cpf(&digits.iter().collect::<String>()),
                "changed digit {position}"
            );
        }
        assert!(!is_valid_cpf("11111111111"));
        assert!(!is_valid_cpf("5299822472"));
        assert!(!is_valid_cpf("5299822472a"));
    }

    #[test]
    fn cnpj_vectors() {
        assert!(is_valid_cnpj("11222333000181"));
        assert_eq!(
            Registry::Cnpj.normalize("11.222.333/0001-81").unwrap(),
            "11222333000181"
        );
        assert!(!is_valid_cnpj("00000000000000"));
        assert!(!is_valid_cnpj("11222333000182"));
        assert!(!is_valid_cnpj("1122233300018"));
    }

    #[test]
    fn registry_formats() {
        assert_eq!(
            Registry::Sisbov.normalize(" br123456789012 ").unwrap(),
            "BR123456789012"
        );
        assert!(Registry::Sisbov.normalize("BR12345678901").is_err());
        assert!(Registry::Sisbov.normalize("US123456789012").is_err());
        assert_eq!(
            Registry::Car.normalize("mt-5100201-abc123").unwrap(),
            "MT-5100201-ABC123"
        );
        assert!(Registry::Car.normalize("XX-5100201").is_err());
        assert!(Registry::Car.normalize("5100201").is_err());
        assert_eq!(Registry::Nirf.normalize("1234.567-8").unwrap(), "12345678");
        assert!(Registry::Nirf.normalize("1234567").is_err());
        assert!(Registry::Ie.normalize("123.456.78").is_ok());
        assert!(Registry::Ie.normalize("1234567").is_err());
        assert_eq!(Registry::Rfid.normalize("982000123456789").unwrap(), "982000123456789");
        assert!(Registry::Rfid.normalize("123456789").is_err());
    }

    #[test]
    fn canonical_and_contextual() {
        let cpf = Identifier::from_input(input("CPF", "529.982.247-25"), 0, Namespace::Generic).unwrap();
        assert_eq!(cpf.id_type, IdType::Canonical);
        assert_eq!(cpf.key, "cpf");
        assert_eq!(cpf.value, "52998224725");
        let mut unknown = input("brinco", "A-17");
        unknown.id_type = Some(IdType::Canonical);
        assert_eq!(
            Identifier::from_input(unknown, 0, Namespace::Generic).unwrap_err().code,
            "unknown_registry"
        );
        let label = Identifier::from_input(input("brinco", " A-17 "), 0, Namespace::Bovino).unwrap();
        assert_eq!(label.id_type, IdType::Contextual);
        assert_eq!(label.value, "A-17");
        assert_eq!(label.namespace, Namespace::Bovino);
        assert_eq!(label.scope, Some(Scope::User));
        let bad = Identifier::from_input(input("cpf", "11111111111"), 3, Namespace::Generic).unwrap_err();
        assert_eq!(bad.code, "invalid_identifier");
        assert_eq!(bad.details.unwrap()["field"], "identifiers[3]");
    }

    #[test]
    fn duplicates_collapse_after_normalisation() {
        let parsed = parse_identifiers(
            vec![
                input("cpf", "529.982.247-25"),
                input("cpf", "52998224725"),
                input("lote", "7"),
            ],
            Namespace::Generic,
        )
        .unwrap();
        assert_eq!(parsed.len(), 2);
    }
}
