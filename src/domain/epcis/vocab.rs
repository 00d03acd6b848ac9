//! CBV 2.0's standard vocabularies: a bare value such as `"bizStep": "shipping"` stands for its
//! web URI (`https://ref.gs1.org/cbv/BizStep-shipping`), as the EPCIS 2.0 JSON-LD context says.

/// A field whose bare values name a term of a CBV (or GS1 web) vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    BizStep,
    Disposition,
    BizTransactionType,
    SourceDestinationType,
    ErrorReason,
    MeasurementType,
    SensorException,
    Component,
}

const CBV: &str = "https://ref.gs1.org/cbv/";
const GS1_VOC: &str = "https://gs1.org/voc/";

const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

const DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_class",
    "mismatch_instance",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

const BIZ_TRANSACTION_TYPES: &[&str] = &[
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
];

const SOURCE_DESTINATION_TYPES: &[&str] = &["location", "owning_party", "possessing_party"];

const ERROR_REASONS: &[&str] = &["did_not_occur", "incorrect_data"];

const MEASUREMENT_TYPES: &[&str] = &[
    "AbsoluteHumidity",
    "AbsorbedDose",
    "AbsorbedDoseRate",
    "Acceleration",
    "Altitude",
    "AmountOfSubstance",
    "AmountOfSubstancePerUnitVolume",
    "Angle",
    "AngularAcceleration",
    "AngularMomentum",
    "AngularVelocity",
    "Area",
    "Capacitance",
    "Conductance",
    "Conductivity",
    "Count",
    "Density",
    "Dimensionless",
    "DoseEquivalent",
    "DoseEquivalentRate",
    "DynamicViscosity",
    "ElectricCharge",
    "ElectricCurrent",
    "ElectricCurrentDensity",
    "ElectricFieldStrength",
    "Energy",
    "Exposure",
    "Force",
    "Frequency",
    "Illuminance",
    "Inductance",
    "Irradiance",
    "KinematicViscosity",
    "Length",
    "LinearMomentum",
    "Luminance",
    "LuminousFlux",
    "LuminousIntensity",
    "MagneticFlux",
    "MagneticFluxDensity",
    "MagneticVectorPotential",
    "Mass",
    "MassConcentration",
    "MassFlowRate",
    "MassPerAreaTime",
    "MemoryCapacity",
    "MolalityOfSolute",
    "MolarEnergy",
    "MolarMass",
    "MolarVolume",
    "Power",
    "Pressure",
    "RadiantFlux",
    "RadiantIntensity",
    "Radioactivity",
    "RelativeHumidity",
    "Resistance",
    "Resistivity",
    "SolidAngle",
    "SpecificVolume",
    "Speed",
    "SurfaceDensity",
    "SurfaceTension",
    "Temperature",
    "Time",
    "Torque",
    "Voltage",
    "Volume",
    "VolumeFlowRate",
    "VolumeFraction",
    "VolumetricFlux",
    "Wavenumber",
];

const SENSOR_EXCEPTIONS: &[&str] = &["ALARM_CONDITION", "ERROR_CONDITION"];

const COMPONENTS: &[&str] = &[
    "x",
    "y",
    "z",
    "axial_distance",
    "azimuth",
    "height",
    "spherical_radius",
    "polar_angle",
    "elevation_angle",
    "easting",
    "northing",
    "latitude",
    "longitude",
    "altitude",
];

impl Vocabulary {
    fn terms_and_prefix(self) -> (&'static [&'static str], String) {
        match self {
            Self::BizStep => (BIZ_STEPS, format!("{CBV}BizStep-")),
            Self::Disposition => (DISPOSITIONS, format!("{CBV}Disp-")),
            Self::BizTransactionType => (BIZ_TRANSACTION_TYPES, format!("{CBV}BTT-")),
            Self::SourceDestinationType => (SOURCE_DESTINATION_TYPES, format!("{CBV}SDT-")),
            Self::ErrorReason => (ERROR_REASONS, format!("{CBV}ER-")),
            Self::MeasurementType => (MEASUREMENT_TYPES, GS1_VOC.to_owned()),
            Self::SensorException => (SENSOR_EXCEPTIONS, GS1_VOC.to_owned()),
            Self::Component => (COMPONENTS, format!("{CBV}Comp-")),
        }
    }

    /// The web URI a bare term stands for; `None` for anything else (a URI, an unknown word).
    pub fn expand(self, value: &str) -> Option<String> {
        let (terms, prefix) = self.terms_and_prefix();
        terms.contains(&value).then(|| format!("{prefix}{value}"))
    }

    /// The value in its web-URI form: bare terms expanded, CBV 1.x URNs rewritten, anything else
    /// as sent. Queries compare values in this form.
    pub fn normalise(self, value: &str) -> String {
        self.expand(value).unwrap_or_else(|| web_vocabulary(value))
    }
}

/// Rewrites CBV 1.x URNs (`urn:epcglobal:cbv:bizstep:shipping`) as CBV 2.0 web URIs.
pub fn web_vocabulary(value: &str) -> String {
    const URNS: &[(&str, &str)] = &[
        ("urn:epcglobal:cbv:bizstep:", "BizStep-"),
        ("urn:epcglobal:cbv:disp:", "Disp-"),
        ("urn:epcglobal:cbv:btt:", "BTT-"),
        ("urn:epcglobal:cbv:sdt:", "SDT-"),
        ("urn:epcglobal:cbv:er:", "ER-"),
    ];
    let mut out = value.to_owned();
    for (urn, web) in URNS {
        if out.contains(urn) {
            out = out.replace(urn, &format!("{CBV}{web}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_terms_expand_and_others_stay() {
        assert_eq!(
            Vocabulary::BizStep.expand("shipping").as_deref(),
            Some("https://ref.gs1.org/cbv/BizStep-shipping")
        );
        assert_eq!(
            Vocabulary::MeasurementType.expand("Temperature").as_deref(),
            Some("https://gs1.org/voc/Temperature")
        );
        assert_eq!(Vocabulary::BizStep.expand("slaughtering"), None);
        assert_eq!(
            Vocabulary::Disposition.normalise("urn:epcglobal:cbv:disp:in_transit"),
            "https://ref.gs1.org/cbv/Disp-in_transit"
        );
        assert_eq!(
            Vocabulary::Disposition.normalise("https://x.example/d"),
            "https://x.example/d"
        );
    }
}
