//! Circuits: permissioned groups that share items, their settings, and what push-local requires
//! of an item's identifiers.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::circuits::public_page::PublicSettings;
use crate::domain::circuits::roles::{Member, MemberRole};
use crate::domain::items::identifier::{Identifier, Namespace};
use crate::domain::{Error, Timestamp};

id_type!(
    /// A circuit's id.
    CircuitId,
    "circuit"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CircuitSettings {
    pub require_approval_for_push: bool,
    pub require_approval_for_pull: bool,
    pub allow_public_visibility: bool,
}

/// What push-local requires of an item's identifiers in this circuit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AliasConfig {
    #[serde(default)]
    pub required_canonical: Vec<String>,
    #[serde(default)]
    pub required_contextual: Vec<String>,
    #[serde(default)]
    pub allowed_namespaces: Option<Vec<Namespace>>,
    #[serde(default)]
    pub default_namespace: Option<Namespace>,
}

impl AliasConfig {
    pub fn validate(&self) -> Result<(), Error> {
        for registry in &self.required_canonical {
            if crate::domain::items::identifier::Registry::parse(registry).is_none() {
                return Err(
                    Error::invalid("unknown_registry", format!("{registry:?} is not a known registry"))
                        .with_details(json!({ "field": "alias_config.required_canonical", "key": registry })),
                );
            }
        }
        if self.required_canonical.len() + self.required_contextual.len() > 50
            || self
                .required_contextual
                .iter()
                .any(|k| k.trim().is_empty() || k.chars().count() > 64)
        {
            return Err(Error::field(
                "alias_config",
                "at most 50 requirements of 1 to 64 characters",
            ));
        }
        Ok(())
    }

    /// Checks an item's identifiers; the error's details list every missing requirement.
    pub fn check(&self, identifiers: &[Identifier]) -> Result<(), Error> {
        let has_canonical = |registry: &str| {
            identifiers
                .iter()
                .any(|i| i.is_canonical() && i.key.eq_ignore_ascii_case(registry))
        };
        let has_contextual = |key: &str| identifiers.iter().any(|i| !i.is_canonical() && i.key == key);
        let missing_canonical: Vec<&String> = self.required_canonical.iter().filter(|r| !has_canonical(r)).collect();
        let missing_contextual: Vec<&String> = self.required_contextual.iter().filter(|k| !has_contextual(k)).collect();
        let disallowed: Vec<&str> = match &self.allowed_namespaces {
            Some(allowed) if !allowed.is_empty() => identifiers
                .iter()
                .filter(|i| !allowed.contains(&i.namespace))
                .map(|i| i.namespace.as_str())
                .collect(),
            _ => Vec::new(),
        };
        if missing_canonical.is_empty() && missing_contextual.is_empty() && disallowed.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(
            "alias_requirements_not_met",
            "the item's identifiers do not meet this circuit's requirements",
        )
        .with_details(json!({
            "missing_canonical": missing_canonical,
            "missing_contextual": missing_contextual,
            "disallowed_namespaces": disallowed,
        })))
    }
}

text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CircuitStatus {
        Active = "Active",
        Inactive = "Inactive",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Circuit {
    pub circuit_id: String,
    pub name: String,
    pub description: Option<String>,
    pub owner_id: String,
    pub status: CircuitStatus,
    pub settings: CircuitSettings,
    pub alias_config: AliasConfig,
    /// `none`, `local`, `ipfs-ipfs`, ...
    pub adapter_type: String,
    pub public: Option<PublicSettings>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Circuit {
    /// 409 `circuit_inactive` for a deactivated circuit.
    pub fn require_active(&self) -> Result<(), Error> {
        match self.status {
            CircuitStatus::Active => Ok(()),
            CircuitStatus::Inactive => Err(Error::conflict("circuit_inactive", "this circuit is deactivated")),
        }
    }

    /// Whether the Owner's or anyone's operation of this kind needs a manager's approval.
    pub fn needs_approval(&self, requester: &Member, push: bool) -> bool {
        let required = if push {
            self.settings.require_approval_for_push
        } else {
            self.settings.require_approval_for_pull
        };
        required && requester.role != MemberRole::Owner
    }
}

/// An item in a circuit.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitItem {
    pub circuit_id: String,
    pub dfid: String,
    pub pushed_by: String,
    pub pushed_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::member;
    use chrono::Utc;

    #[test]
    fn a_malformed_circuit_id_is_the_same_not_found_as_an_unknown_one() {
        assert_eq!(CircuitId::parse("0b8f-4c1e_x").unwrap().as_str(), "0b8f-4c1e_x");
        for malformed in ["", "a/b", "ç", "x'; DROP TABLE circuit; --", &"a".repeat(129)] {
            let error = CircuitId::parse(malformed).unwrap_err();
            assert_eq!(error, Error::not_found("circuit"), "{malformed:?}");
        }
    }

    #[test]
    fn alias_requirements() {
        let config = AliasConfig {
            required_canonical: vec!["sisbov".into()],
            required_contextual: vec!["brinco".into()],
            allowed_namespaces: Some(vec![Namespace::Bovino]),
            default_namespace: Some(Namespace::Bovino),
        };
        let sisbov = Identifier {
            namespace: Namespace::Bovino,
            key: "sisbov".into(),
            value: "BR123456789012".into(),
            id_type: crate::domain::items::identifier::IdType::Canonical,
            scope: None,
            verified: false,
            added_by: None,
        };
        let err = config.check(std::slice::from_ref(&sisbov)).unwrap_err();
        assert_eq!(err.details.as_ref().unwrap()["missing_contextual"], json!(["brinco"]));
        let mut brinco = sisbov.clone();
        brinco.key = "brinco".into();
        brinco.id_type = crate::domain::items::identifier::IdType::Contextual;
        assert!(config.check(&[sisbov.clone(), brinco.clone()]).is_ok());
        brinco.namespace = Namespace::Soja;
        let err = config.check(&[sisbov, brinco]).unwrap_err();
        assert_eq!(err.details.unwrap()["disallowed_namespaces"], json!(["soja"]));
    }

    #[test]
    fn approval_gate_spares_the_owner() {
        let circuit = Circuit {
            circuit_id: "c".into(),
            name: "n".into(),
            description: None,
            owner_id: "o".into(),
            status: CircuitStatus::Active,
            settings: CircuitSettings {
                require_approval_for_push: true,
                require_approval_for_pull: false,
                allow_public_visibility: false,
            },
            alias_config: AliasConfig::default(),
            adapter_type: "none".into(),
            public: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert!(!circuit.needs_approval(&member("o", MemberRole::Owner, None), true));
        assert!(circuit.needs_approval(&member("m", MemberRole::Member, None), true));
        assert!(!circuit.needs_approval(&member("m", MemberRole::Member, None), false));
    }
}
