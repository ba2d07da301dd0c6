//! Generated logs of every shape: each planted scenario is found, near misses are
//! not, and the counts by EventID are the generator's.

use std::collections::BTreeSet;
use sysmon_lens::generate::{Manifest, Plan, PlantKind, Shape, generate};

const SPAWN: &str = "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee";
const HTTP: &str = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";

/// (detection, mode) → msiexec pids in the findings.
fn found(report: &serde_json::Value, detection: &str, mode: &str) -> BTreeSet<u32> {
    let pid_field = if detection == SPAWN {
        "parent_process_id"
    } else {
        "process_id"
    };
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["detection_id"] == detection && f["mode"] == mode)
        .map(|f| {
            f["row"][pid_field]
                .as_str()
                .and_then(|pid| pid.parse().ok())
                .expect("pid")
        })
        .collect()
}

fn planted(manifest: &Manifest, kind: PlantKind) -> BTreeSet<u32> {
    manifest.pids(kind).into_iter().collect()
}

#[test]
fn every_planted_scenario_is_found_in_every_shape() {
    for shape in Shape::ALL {
        let mut bytes = Vec::new();
        let plan = Plan {
            plants_per_kind: 3,
            ..Plan::new(shape, 2 << 20, 11)
        };
        let manifest = generate(plan, &mut bytes).expect("in memory");
        let report = serde_json::to_value(sysmon_lens::analyze([("generated", &bytes[..])])).expect("serializes");
        let name = shape.name();
        assert_eq!(report["files"][0]["skipped_count"], 0, "{name}");
        let counts: std::collections::BTreeMap<String, u64> =
            serde_json::from_value(report["files"][0]["sysmon_events"].clone()).expect("counts");
        let expected: std::collections::BTreeMap<String, u64> = manifest
            .events_by_id
            .iter()
            .map(|(id, n)| (id.to_string(), *n))
            .collect();
        assert_eq!(counts, expected, "{name}");
        let spawned = planted(&manifest, PlantKind::SpawnDiscovery);
        let downloads = planted(&manifest, PlantKind::HttpDownload);
        assert_eq!((spawned.len(), downloads.len()), (3, 3));
        for mode in ["as_published", "hardened"] {
            assert_eq!(found(&report, SPAWN, mode), spawned, "{name} {mode}");
            assert_eq!(found(&report, HTTP, mode), downloads, "{name} {mode}");
        }
        assert_eq!(
            report["findings"].as_array().map(Vec::len),
            Some(12),
            "{name}: near misses stay silent"
        );
    }
}
