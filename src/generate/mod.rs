//! A deterministic generator of realistic Sysmon logs, for benchmarks and large tests.
//!
//! The same seed and size always give the same bytes. Background activity follows
//! the EventID mix of real Sysmon logs (process access and image loads dominate,
//! process creations are a few percent), on a few dozen hosts whose processes start,
//! load, connect and exit. Planted scenarios sit at known fractions of the file:
//! msiexec spawning a discovery program, msiexec downloading over HTTPS, and a near
//! miss of each (a non-discovery child, a non-web port). Planted processes take pids
//! no background process has, so the published PID-only join cannot pick up a
//! stranger and every expected finding is known in advance ([`Manifest`]).
//!
//! EVTX is not written: an EVTX file is binary XML (BinXML templates and string tables
//! in checksummed chunks), and no crate writes it; the EVTX path is measured on real
//! files instead.

mod activity;
mod shapes;

use activity::Activity;
use serde::Serialize;
pub use shapes::Shape;
use std::io::{self, Write};

/// A planted scenario and where it landed.
#[derive(Clone, Debug, Serialize)]
pub struct Planted {
    pub kind: PlantKind,
    pub host: String,
    /// The msiexec process's pid.
    pub pid: u32,
    /// The line of its first event (1-based).
    pub line: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlantKind {
    /// msiexec.exe starts a discovery program: both readings of the spawn detection fire.
    SpawnDiscovery,
    /// msiexec.exe connects to port 443: both readings of the HTTP detection fire.
    HttpDownload,
    /// msiexec.exe starts notepad.exe: no finding.
    SpawnNearMiss,
    /// msiexec.exe connects to port 8080: no finding.
    HttpNearMiss,
}

/// What was written, and the findings an exact analysis must report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Manifest {
    pub shape: &'static str,
    pub seed: u64,
    pub bytes: u64,
    pub events: u64,
    /// Events by EventID, in EventID order.
    pub events_by_id: std::collections::BTreeMap<u32, u64>,
    pub planted: Vec<Planted>,
}

impl Manifest {
    /// Pids of planted scenarios of `kind`, in file order.
    pub fn pids(&self, kind: PlantKind) -> Vec<u32> {
        self.planted.iter().filter(|p| p.kind == kind).map(|p| p.pid).collect()
    }
}

/// How much to write: shape, approximate size in bytes, and the seed.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub shape: Shape,
    pub bytes: u64,
    pub seed: u64,
    /// Planted scenarios of each kind (at least one of each).
    pub plants_per_kind: u32,
}

impl Plan {
    pub fn new(shape: Shape, bytes: u64, seed: u64) -> Self {
        // One scenario of each kind per 64 MB, at least one.
        let plants_per_kind = u32::try_from(bytes / (64 << 20)).unwrap_or(u32::MAX).clamp(1, 64);
        Self {
            shape,
            bytes,
            seed,
            plants_per_kind,
        }
    }
}

/// Writes `plan.bytes` (a little more: the last event is whole) of Sysmon log to `out`.
pub fn generate(plan: Plan, out: &mut impl Write) -> io::Result<Manifest> {
    let mut activity = Activity::new(plan.seed);
    let mut manifest = Manifest {
        shape: plan.shape.name(),
        seed: plan.seed,
        ..Manifest::default()
    };
    let kinds = [
        PlantKind::SpawnDiscovery,
        PlantKind::HttpDownload,
        PlantKind::SpawnNearMiss,
        PlantKind::HttpNearMiss,
    ];
    let plants = plan.plants_per_kind as usize * kinds.len();
    // Scenario i goes in once (i + 1) / (plants + 1) of the bytes are written.
    let mut next_plant = 0;
    let mut line = 0u64;
    let mut buf = Vec::with_capacity(4096);
    let mut events = Vec::new();
    while manifest.bytes < plan.bytes || next_plant < plants {
        events.clear();
        let due = (next_plant + 1) as u64 * plan.bytes / (plants as u64 + 1);
        if next_plant < plants && manifest.bytes >= due {
            let kind = kinds[next_plant % kinds.len()];
            let (host, pid) = activity.plant(kind, &mut events);
            manifest.planted.push(Planted {
                kind,
                host,
                pid,
                line: line + 1,
            });
            next_plant += 1;
        } else {
            activity.background(&mut events);
        }
        for event in &events {
            buf.clear();
            plan.shape.write(event, &mut buf);
            buf.push(b'\n');
            out.write_all(&buf)?;
            manifest.bytes += buf.len() as u64;
            manifest.events += 1;
            *manifest.events_by_id.entry(event.id).or_default() += 1;
            line += 1;
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let write = |seed| {
            let mut out = Vec::new();
            generate(Plan::new(Shape::XmlLines, 200_000, seed), &mut out).expect("in memory");
            out
        };
        assert_eq!(write(7), write(7));
        assert_ne!(write(7), write(8));
    }

    #[test]
    fn every_kind_is_planted_and_the_size_is_reached() {
        for shape in Shape::ALL {
            let mut out = Vec::new();
            let manifest = generate(Plan::new(shape, 300_000, 1), &mut out).expect("in memory");
            assert_eq!(manifest.bytes, out.len() as u64);
            assert!(out.len() >= 300_000 && out.len() < 310_000, "{}", out.len());
            assert_eq!(manifest.planted.len(), 4);
            assert!(manifest.events_by_id[&1] > 10 && manifest.events_by_id[&10] > manifest.events_by_id[&1]);
        }
    }
}
