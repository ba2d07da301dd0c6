//! The MITRE ATT&CK rows the detections cite, as a small versioned table.

use serde::Serialize;

/// The ATT&CK release these names and ids were checked against.
pub const ATTACK_VERSION: &str = "18";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tactic {
    pub id: &'static str,
    pub name: &'static str,
}

/// A technique as a finding shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Technique {
    pub id: &'static str,
    /// "Parent: Sub-technique", as ATT&CK writes sub-technique names.
    pub name: &'static str,
    pub tactics: Vec<Tactic>,
    /// The tactic's name from ATT&CK v19 on, which split Defense Evasion into Stealth
    /// and Defense Impairment.
    pub tactic_from_v19: &'static str,
    pub url: &'static str,
}

const DEFENSE_EVASION: Tactic = Tactic {
    id: "TA0005",
    name: "Defense Evasion",
};

/// Looks a technique up by id; `None` for an id the table does not hold.
pub fn technique(id: &str) -> Option<Technique> {
    match id {
        "T1218" => Some(Technique {
            id: "T1218",
            name: "System Binary Proxy Execution",
            tactics: vec![DEFENSE_EVASION],
            tactic_from_v19: "Stealth",
            url: "https://attack.mitre.org/techniques/T1218/",
        }),
        "T1218.007" => Some(Technique {
            id: "T1218.007",
            name: "System Binary Proxy Execution: Msiexec",
            tactics: vec![DEFENSE_EVASION],
            tactic_from_v19: "Stealth",
            url: "https://attack.mitre.org/techniques/T1218/007/",
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::meta::ALL;

    #[test]
    fn every_cited_technique_is_in_the_table() {
        for detection in ALL {
            for id in detection.mitre_attack_ids {
                let technique = technique(id).unwrap_or_else(|| panic!("{id} missing from the ATT&CK table"));
                assert!(technique.url.contains(&id.replace('.', "/")), "{id}");
            }
        }
    }
}
