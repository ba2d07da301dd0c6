//! The one CIM field table: each field of `Endpoint.Processes` and
//! `Network_Traffic.All_Traffic` the product fills, with the Sysmon EventID and raw field
//! it comes from and how it is derived.
//!
//! Normalization builds its rows from it, a finding's provenance names the raw field of
//! each output field from it, and coverage says which raw field a file lacks from it:
//! a mapping is changed here once, never in three places.

use super::{Cim, ProcessRow, TrafficRow, basename};
use crate::ingest::RawEvent;
use crate::ingest::raw_event::Producer;

/// A Splunk CIM data model node the detections search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataModel {
    /// `Endpoint.Processes`, from Sysmon EID 1.
    Processes,
    /// `Network_Traffic.All_Traffic`, from Sysmon EID 3.
    AllTraffic,
}

impl DataModel {
    /// The Sysmon EventID whose events fill the model.
    pub const fn event_id(self) -> u32 {
        match self {
            Self::Processes => 1,
            Self::AllTraffic => 3,
        }
    }
}

/// How a CIM value is made from its raw field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derivation {
    /// The raw value; empty is missing.
    AsIs,
    /// The raw value even when empty (the event's `Security/@UserID`).
    Verbatim,
    /// The last path component.
    Basename,
    /// The raw value; `-` (Sysmon's "none") is missing.
    DashIsMissing,
    /// The raw host name, or when it is `-` or missing the named IP field.
    HostElse(&'static str),
    /// `Initiated`: `true` is outbound, anything else inbound.
    Direction,
    /// A fixed value; no raw field.
    Constant(&'static str),
    /// The product that logged the event; no raw field.
    VendorProduct,
    /// The event's `_time` (see [`super::time`]); not part of a row.
    Time,
}

/// Where a row keeps the field, for reading it back.
#[derive(Clone, Copy)]
pub enum Slot {
    Process(fn(&ProcessRow) -> &Option<String>),
    Traffic(fn(&TrafficRow) -> &Option<String>),
    /// Not held in a row.
    None,
}

/// One CIM field and its raw Sysmon source.
#[derive(Clone, Copy)]
pub struct CimField {
    pub model: DataModel,
    pub name: &'static str,
    /// The raw field: an `EventData` name, `Computer` or `UserID` (of `System`).
    pub raw: Option<&'static str>,
    pub derivation: Derivation,
    pub slot: Slot,
}

const fn process(
    name: &'static str,
    raw: &'static str,
    derivation: Derivation,
    slot: fn(&ProcessRow) -> &Option<String>,
) -> CimField {
    CimField {
        model: DataModel::Processes,
        name,
        raw: Some(raw),
        derivation,
        slot: Slot::Process(slot),
    }
}

const fn traffic(
    name: &'static str,
    raw: &'static str,
    derivation: Derivation,
    slot: fn(&TrafficRow) -> &Option<String>,
) -> CimField {
    CimField {
        model: DataModel::AllTraffic,
        name,
        raw: Some(raw),
        derivation,
        slot: Slot::Traffic(slot),
    }
}

const fn time(model: DataModel) -> CimField {
    CimField {
        model,
        name: "_time",
        raw: Some(super::time::UTC_TIME),
        derivation: Derivation::Time,
        slot: Slot::None,
    }
}

use Derivation::{AsIs, Basename, DashIsMissing, Direction, HostElse, Verbatim};

/// `Endpoint.Processes`, as the Splunk Add-on for Sysmon maps EID 1.
pub mod processes {
    use super::*;
    pub const DEST: CimField = process("dest", "Computer", AsIs, |r| &r.dest);
    pub const USER: CimField = process("user", "User", AsIs, |r| &r.user);
    pub const USER_ID: CimField = process("user_id", "UserID", Verbatim, |r| &r.user_id);
    pub const PROCESS_PATH: CimField = process("process_path", "Image", AsIs, |r| &r.process_path);
    pub const PROCESS_NAME: CimField = process("process_name", "Image", Basename, |r| &r.process_name);
    pub const PROCESS_EXEC: CimField = process("process_exec", "Image", Basename, |r| &r.process_exec);
    pub const PROCESS: CimField = process("process", "CommandLine", AsIs, |r| &r.process);
    pub const PROCESS_ID: CimField = process("process_id", "ProcessId", AsIs, |r| &r.process_id);
    pub const PROCESS_GUID: CimField = process("process_guid", "ProcessGuid", AsIs, |r| &r.process_guid);
    pub const PROCESS_HASH: CimField = process("process_hash", "Hashes", AsIs, |r| &r.process_hash);
    pub const PROCESS_INTEGRITY_LEVEL: CimField = process("process_integrity_level", "IntegrityLevel", AsIs, |r| {
        &r.process_integrity_level
    });
    pub const ORIGINAL_FILE_NAME: CimField = process("original_file_name", "OriginalFileName", DashIsMissing, |r| {
        &r.original_file_name
    });
    pub const PARENT_PROCESS_PATH: CimField =
        process("parent_process_path", "ParentImage", AsIs, |r| &r.parent_process_path);
    pub const PARENT_PROCESS_NAME: CimField = process("parent_process_name", "ParentImage", Basename, |r| {
        &r.parent_process_name
    });
    pub const PARENT_PROCESS_EXEC: CimField = process("parent_process_exec", "ParentImage", Basename, |r| {
        &r.parent_process_exec
    });
    pub const PARENT_PROCESS: CimField = process("parent_process", "ParentCommandLine", AsIs, |r| &r.parent_process);
    pub const PARENT_PROCESS_ID: CimField =
        process("parent_process_id", "ParentProcessId", AsIs, |r| &r.parent_process_id);
    pub const PARENT_PROCESS_GUID: CimField = process("parent_process_guid", "ParentProcessGuid", AsIs, |r| {
        &r.parent_process_guid
    });
    pub const ACTION: CimField = CimField {
        model: DataModel::Processes,
        name: "action",
        raw: None,
        derivation: Derivation::Constant("allowed"),
        slot: Slot::Process(|r| &r.action),
    };
    pub const VENDOR_PRODUCT: CimField = CimField {
        model: DataModel::Processes,
        name: "vendor_product",
        raw: None,
        derivation: Derivation::VendorProduct,
        slot: Slot::Process(|r| &r.vendor_product),
    };
    pub const TIME: CimField = time(DataModel::Processes);
}

/// `Network_Traffic.All_Traffic`, as the Splunk Add-on for Sysmon maps EID 3.
pub mod all_traffic {
    use super::*;
    /// The remote host.
    pub const DEST: CimField = traffic("dest", "DestinationHostname", HostElse("DestinationIp"), |r| &r.dest);
    pub const DEST_IP: CimField = traffic("dest_ip", "DestinationIp", AsIs, |r| &r.dest_ip);
    pub const DEST_PORT: CimField = traffic("dest_port", "DestinationPort", AsIs, |r| &r.dest_port);
    /// The add-on's remote host name, without the IP fallback; rows do not hold it.
    pub const DEST_HOST: CimField = CimField {
        model: DataModel::AllTraffic,
        name: "dest_host",
        raw: Some("DestinationHostname"),
        derivation: DashIsMissing,
        slot: Slot::None,
    };
    /// The endpoint that logged the connection.
    pub const DVC: CimField = traffic("dvc", "Computer", AsIs, |r| &r.dvc);
    pub const SRC: CimField = traffic("src", "SourceHostname", HostElse("SourceIp"), |r| &r.src);
    pub const SRC_IP: CimField = traffic("src_ip", "SourceIp", AsIs, |r| &r.src_ip);
    pub const SRC_PORT: CimField = traffic("src_port", "SourcePort", AsIs, |r| &r.src_port);
    pub const TRANSPORT: CimField = traffic("transport", "Protocol", AsIs, |r| &r.transport);
    pub const DIRECTION: CimField = traffic("direction", "Initiated", Direction, |r| &r.direction);
    pub const PROCESS_ID: CimField = traffic("process_id", "ProcessId", AsIs, |r| &r.process_id);
    pub const PROCESS_GUID: CimField = traffic("process_guid", "ProcessGuid", AsIs, |r| &r.process_guid);
    pub const PROCESS_NAME: CimField = traffic("process_name", "Image", Basename, |r| &r.process_name);
    pub const APP: CimField = traffic("app", "Image", AsIs, |r| &r.app);
    pub const USER: CimField = traffic("user", "User", AsIs, |r| &r.user);
    pub const VENDOR_PRODUCT: CimField = CimField {
        model: DataModel::AllTraffic,
        name: "vendor_product",
        raw: None,
        derivation: Derivation::VendorProduct,
        slot: Slot::Traffic(|r| &r.vendor_product),
    };
    pub const TIME: CimField = time(DataModel::AllTraffic);
}

/// Every field of the table.
pub static FIELDS: [CimField; 38] = [
    processes::DEST,
    processes::USER,
    processes::USER_ID,
    processes::PROCESS_PATH,
    processes::PROCESS_NAME,
    processes::PROCESS_EXEC,
    processes::PROCESS,
    processes::PROCESS_ID,
    processes::PROCESS_GUID,
    processes::PROCESS_HASH,
    processes::PROCESS_INTEGRITY_LEVEL,
    processes::ORIGINAL_FILE_NAME,
    processes::PARENT_PROCESS_PATH,
    processes::PARENT_PROCESS_NAME,
    processes::PARENT_PROCESS_EXEC,
    processes::PARENT_PROCESS,
    processes::PARENT_PROCESS_ID,
    processes::PARENT_PROCESS_GUID,
    processes::ACTION,
    processes::VENDOR_PRODUCT,
    processes::TIME,
    all_traffic::DEST,
    all_traffic::DEST_IP,
    all_traffic::DEST_PORT,
    all_traffic::DEST_HOST,
    all_traffic::DVC,
    all_traffic::SRC,
    all_traffic::SRC_IP,
    all_traffic::SRC_PORT,
    all_traffic::TRANSPORT,
    all_traffic::DIRECTION,
    all_traffic::PROCESS_ID,
    all_traffic::PROCESS_GUID,
    all_traffic::PROCESS_NAME,
    all_traffic::APP,
    all_traffic::USER,
    all_traffic::VENDOR_PRODUCT,
    all_traffic::TIME,
];

const VENDOR: &str = "Microsoft Sysmon";
const NVM_VENDOR: &str = "Cisco Network Visibility Module";

/// The table's field `name` of `model`.
pub fn find(model: DataModel, name: &str) -> Option<&'static CimField> {
    FIELDS.iter().find(|field| field.model == model && field.name == name)
}

/// A raw field of an event: `Computer` and `UserID` from `System`, the rest from `EventData`.
pub fn raw_value<'a>(event: &'a RawEvent, name: &str) -> Option<&'a str> {
    match name {
        "Computer" => event.computer.as_deref(),
        "UserID" => event.security_user_id.as_deref(),
        _ => event.get(name),
    }
}

impl CimField {
    /// The field as `row` holds it; `None` when rows of its kind do not hold it.
    pub fn value<'a>(&self, row: &'a Cim) -> Option<&'a Option<String>> {
        match (self.slot, row) {
            (Slot::Process(slot), Cim::Process(row)) => Some(slot(row)),
            (Slot::Traffic(slot), Cim::Traffic(row)) => Some(slot(row)),
            _ => None,
        }
    }

    /// The field's value for `event`, derived from its raw field.
    pub fn read(&self, event: &RawEvent) -> Option<String> {
        let present = |name: &str| raw_value(event, name).filter(|value| !value.is_empty());
        let raw = self.raw.and_then(present);
        let value = match self.derivation {
            Derivation::AsIs => raw,
            Derivation::Verbatim => self.raw.and_then(|name| raw_value(event, name)),
            Derivation::Basename => raw.map(basename),
            Derivation::DashIsMissing => raw.filter(|value| *value != "-"),
            Derivation::HostElse(ip) => raw.filter(|value| *value != "-").or_else(|| present(ip)),
            Derivation::Direction => raw.map(|initiated| {
                if initiated.eq_ignore_ascii_case("true") {
                    "outbound"
                } else {
                    "inbound"
                }
            }),
            Derivation::Constant(value) => Some(value),
            Derivation::VendorProduct => Some(if event.producer == Producer::CiscoNvm {
                NVM_VENDOR
            } else {
                VENDOR
            }),
            Derivation::Time => None,
        };
        value.map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::to_cim;

    const PATH: &str = r"C:\Tools\Sample.exe";

    /// An event of `field`'s model holding only its raw field.
    fn event_with(field: &CimField, raw: &str) -> RawEvent {
        let value = if field.derivation == Derivation::Direction {
            "true"
        } else {
            PATH
        };
        let mut event = RawEvent {
            event_id: Some(field.model.event_id()),
            ..RawEvent::default()
        };
        match raw {
            "Computer" => event.computer = Some(value.into()),
            "UserID" => event.security_user_id = Some(value.into()),
            _ => event.data.push((raw.to_string(), value.to_string())),
        }
        event
    }

    #[test]
    fn normalization_fills_each_field_from_its_raw_field_alone() {
        for field in FIELDS.iter().filter(|f| !matches!(f.slot, Slot::None)) {
            let Some(raw) = field.raw else { continue };
            let cim = to_cim(&event_with(field, raw));
            let expected = match field.derivation {
                Derivation::Basename => "Sample.exe",
                Derivation::Direction => "outbound",
                _ => PATH,
            };
            assert_eq!(
                field.value(&cim),
                Some(&Some(expected.to_string())),
                "{} from {raw}",
                field.name
            );
            let unrelated = |o: &&CimField| {
                o.model == field.model && o.raw.is_some_and(|r| r != raw) && o.derivation != Derivation::HostElse(raw)
            };
            for other in FIELDS.iter().filter(unrelated) {
                assert_eq!(
                    other.value(&cim).and_then(Option::as_ref),
                    None,
                    "{} from {raw}",
                    other.name
                );
            }
        }
    }

    #[test]
    fn every_row_field_is_in_the_table() {
        let rows = [
            (DataModel::Processes, Cim::Process(ProcessRow::default())),
            (DataModel::AllTraffic, Cim::Traffic(TrafficRow::default())),
        ];
        for (model, row) in rows {
            let names = match &row {
                Cim::Process(row) => serde_json::to_value(row),
                Cim::Traffic(row) => serde_json::to_value(row),
                Cim::Other => Ok(serde_json::Value::Null),
            };
            let names = names.ok().and_then(|v| v.as_object().cloned()).unwrap_or_default();
            assert!(!names.is_empty());
            for name in names.keys() {
                let field = find(model, name).map(|field| field.value(&row).is_some());
                assert_eq!(field, Some(true), "{model:?}.{name}");
            }
        }
    }

    #[test]
    fn no_field_is_listed_twice() {
        for (at, field) in FIELDS.iter().enumerate() {
            assert!(
                FIELDS[..at]
                    .iter()
                    .all(|f| (f.model, f.name) != (field.model, field.name)),
                "{:?}.{}",
                field.model,
                field.name
            );
        }
    }

    #[test]
    fn constants_and_fallbacks() {
        let mut event = RawEvent {
            event_id: Some(3),
            data: vec![
                ("DestinationHostname".into(), "-".into()),
                ("DestinationIp".into(), "10.0.0.9".into()),
                ("Initiated".into(), "false".into()),
            ],
            ..RawEvent::default()
        };
        assert_eq!(all_traffic::DEST.read(&event).as_deref(), Some("10.0.0.9"));
        assert_eq!(all_traffic::DEST_HOST.read(&event), None);
        assert_eq!(all_traffic::DIRECTION.read(&event).as_deref(), Some("inbound"));
        assert_eq!(all_traffic::VENDOR_PRODUCT.read(&event).as_deref(), Some(VENDOR));
        event.producer = Producer::CiscoNvm;
        assert_eq!(all_traffic::VENDOR_PRODUCT.read(&event).as_deref(), Some(NVM_VENDOR));
        assert_eq!(processes::ACTION.read(&event).as_deref(), Some("allowed"));
    }
}
