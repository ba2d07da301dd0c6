//! Annotate: what Splunk Enterprise Security attaches to a notable and its risk events.
//!
//! Risk score and severity, risk and threat objects with their values, the risk
//! message with its `$field$` tokens filled from the output row, and the ATT&CK, kill
//! chain, NIST, CIS and analytic story annotations.

pub mod attack;
pub mod process_tree;

use crate::detect::DetectionMeta;
use attack::{ATTACK_VERSION, Technique};
use serde::Serialize;
use serde_json::{Map, Value};

/// A finding's risk, as ES records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Risk {
    pub score: u32,
    pub impact: Option<u32>,
    pub confidence: Option<u32>,
    pub severity: &'static str,
    pub message: String,
    pub risk_objects: Vec<RiskObject>,
    pub threat_objects: Vec<ThreatObject>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskObject {
    /// The row field the object comes from (`dest`, `user`).
    pub field: &'static str,
    /// `system` or `user`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    pub score: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreatObject {
    pub field: &'static str,
    pub value: String,
}

/// The annotations ES shows on a notable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Annotations {
    pub mitre_attack: Vec<Technique>,
    pub attack_version: &'static str,
    pub kill_chain_phases: &'static [&'static str],
    pub nist: &'static [&'static str],
    pub cis20: &'static [&'static str],
    pub analytic_story: &'static [&'static str],
}

pub fn annotations(meta: &DetectionMeta) -> Annotations {
    Annotations {
        mitre_attack: meta
            .mitre_attack_ids
            .iter()
            .filter_map(|id| attack::technique(id))
            .collect(),
        attack_version: ATTACK_VERSION,
        kill_chain_phases: meta.kill_chain_phases,
        nist: meta.nist,
        cis20: meta.cis20,
        analytic_story: meta.analytic_stories,
    }
}

pub fn risk(meta: &DetectionMeta, row: &Map<String, Value>) -> Risk {
    let risk = &meta.risk;
    Risk {
        score: risk.score,
        impact: risk.impact,
        confidence: risk.confidence,
        severity: severity(risk.score),
        message: fill_tokens(risk.message, row),
        risk_objects: risk
            .objects
            .iter()
            .map(|&(field, kind)| RiskObject {
                field,
                kind,
                value: row_text(row, field),
                score: risk.score,
            })
            .collect(),
        threat_objects: risk
            .threat_objects
            .iter()
            .map(|&field| ThreatObject {
                field,
                value: row_text(row, field),
            })
            .collect(),
    }
}

/// ES severity bands for a risk score.
pub fn severity(score: u32) -> &'static str {
    match score {
        0..=20 => "informational",
        21..=40 => "low",
        41..=60 => "medium",
        61..=80 => "high",
        _ => "critical",
    }
}

/// Replaces each `$field$` with the row's value; unknown tokens are left as written.
pub fn fill_tokens(message: &str, row: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('$') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('$') {
            Some(close) if row.contains_key(&after[..close]) => {
                out.push_str(&row_text(row, &after[..close]));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn row_text(row: &Map<String, Value>, field: &str) -> String {
    match row.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => "null".to_string(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::meta::{HTTP_FROM_MSIEXEC, SPAWN_DISCOVERY};
    use serde_json::json;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn severity_bands() {
        assert_eq!(
            [0, 20, 21, 35, 40, 41, 60, 61, 80, 81, 100].map(severity),
            [
                "informational",
                "informational",
                "low",
                "low",
                "low",
                "medium",
                "medium",
                "high",
                "high",
                "critical",
                "critical"
            ]
        );
    }

    #[test]
    fn spawn_discovery_risk() {
        let row = row(
            json!({"dest": "WS1", "user": "CORP\\ann", "parent_process_name": "msiexec.exe", "process_name": "cmd.exe"}),
        );
        let risk = risk(&SPAWN_DISCOVERY, &row);
        assert_eq!(
            risk.score,
            SPAWN_DISCOVERY.risk.impact.unwrap_or(0) * SPAWN_DISCOVERY.risk.confidence.unwrap_or(0) / 100
        );
        assert_eq!(risk.severity, "low");
        assert_eq!(
            risk.message,
            "An instance of msiexec.exe spawning cmd.exe was identified on endpoint WS1 by user CORP\\ann running different discovery commands."
        );
        assert_eq!(
            risk.risk_objects[0],
            RiskObject {
                field: "dest",
                kind: "system",
                value: "WS1".into(),
                score: 35
            }
        );
        assert_eq!(risk.risk_objects[1].value, "CORP\\ann");
        assert_eq!(
            risk.threat_objects[1],
            ThreatObject {
                field: "process_name",
                value: "cmd.exe".into()
            }
        );
    }

    #[test]
    fn tokens_with_dollar_values_and_unknown_names() {
        let row = row(json!({"process_name": "$x$.exe", "dest": "h", "dest_ip": "1.2.3.4"}));
        assert_eq!(
            fill_tokens(HTTP_FROM_MSIEXEC.risk.message, &row),
            "An instance of $x$.exe was identified on endpoint h contacting a remote destination 1.2.3.4"
        );
        assert_eq!(fill_tokens("cost $5 and $nope$", &row), "cost $5 and $nope$");
    }

    #[test]
    fn annotations_follow_the_type() {
        assert_eq!(annotations(&SPAWN_DISCOVERY).nist, ["DE.CM"]);
        assert_eq!(annotations(&HTTP_FROM_MSIEXEC).nist, ["DE.AE"]);
        assert_eq!(
            annotations(&SPAWN_DISCOVERY).mitre_attack[0].tactics[0].name,
            "Defense Evasion"
        );
    }
}
