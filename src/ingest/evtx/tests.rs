//! The planned path against the rendered one: on every record of the real EVTX
//! datasets, each decision must be what rendering and parsing the record gives; on
//! damaged copies of them, reading with the prefilter on must give what reading with
//! it off gives.

use super::plan::{Decision, Planner};
use super::{CHUNK_BYTES, FILE_HEADER_BYTES};
use crate::ingest::xml::parse::parse_event;
use crate::ingest::{Input, RawEvent, prefilter};
use evtx::{EvtxChunkData, ParserSettings};
use std::path::PathBuf;
use std::sync::Arc;

/// The `.evtx` files of the shared datasets, or none (with a message) where they are absent.
fn dataset_files() -> Vec<PathBuf> {
    let dir = std::env::var_os("SYSMON_LENS_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    let Ok(sources) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var_os("SYSMON_LENS_REQUIRE_DATASETS").is_none(),
            "datasets not found at {}",
            dir.display()
        );
        eprintln!("SKIPPED: datasets not found at {}", dir.display());
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = sources
        .flatten()
        .filter_map(|source| std::fs::read_dir(source.path()).ok())
        .flat_map(|files| files.flatten().map(|file| file.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "evtx"))
        .collect();
    files.sort();
    files
}

fn chunks(file: &[u8]) -> impl Iterator<Item = &[u8]> {
    file.get(FILE_HEADER_BYTES..)
        .unwrap_or_default()
        .chunks_exact(CHUNK_BYTES)
        .filter(|chunk| chunk.starts_with(b"ElfChnk\0"))
}

/// Records per decision: rendered, counted, other, event.
#[derive(Debug, Default)]
struct Tally {
    rendered: usize,
    counted: usize,
    other: usize,
    events: usize,
}

impl Tally {
    fn planned(&self) -> usize {
        self.counted + self.other + self.events
    }
}

/// Plans each chunk of `file` and checks every decision against the rendered record.
fn check_decisions(name: &str, file: &[u8]) -> Tally {
    let settings = Arc::new(ParserSettings::new().num_threads(1));
    let mut planner = Planner::default();
    let mut tally = Tally::default();
    for chunk in chunks(file) {
        let mut data = EvtxChunkData::new(chunk.to_vec(), false).expect("a chunk header");
        let plan: Vec<_> = planner
            .plan(&data.data, &data.header)
            .unwrap_or_else(|| panic!("{name}: a real chunk is planned"))
            .drain(..)
            .collect();
        let mut parsed = data.parse(Arc::clone(&settings)).expect("a chunk");
        let records: Vec<_> = parsed.iter().collect();
        assert_eq!(records.len(), plan.len(), "{name}: the plan frames the crate's records");
        for (record, planned) in records.into_iter().zip(plan) {
            let record = record.expect("a readable record");
            let id = record.event_record_id;
            assert_eq!(planned.binxml_offset as u64, record.binxml_offset, "{name} record {id}");
            assert_eq!(planned.record_id, id, "{name}");
            let xml = record.into_xml().expect("a record that renders").data;
            let event = parse_event(&xml).unwrap_or_else(|err| panic!("{name} record {id}: {err}"));
            let clean = |event: &RawEvent| event.repaired.is_none();
            match planned.decision {
                Decision::Render => tally.rendered += 1,
                Decision::Count(event_id) => {
                    assert!(clean(&event) && event.is_sysmon(), "{name} record {id}: {xml}");
                    assert_eq!(event.event_id, Some(event_id), "{name} record {id}");
                    assert!(!prefilter::is_read_by_detections(event_id));
                    tally.counted += 1;
                }
                Decision::Other => {
                    assert!(clean(&event) && !event.is_sysmon(), "{name} record {id}: {xml}");
                    tally.other += 1;
                }
                Decision::Event(planned) => {
                    assert_eq!(*planned, event, "{name} record {id}: {xml}");
                    tally.events += 1;
                }
            }
        }
    }
    tally
}

#[test]
fn every_planned_record_is_what_rendering_gives() {
    for path in dataset_files() {
        let file = std::fs::read(&path).expect("a readable dataset");
        let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
        let tally = check_decisions(&name, &file);
        eprintln!("{name}: {tally:?}");
        assert!(tally.planned() > 0, "{name}: {tally:?}");
        // The largest file, mostly EventIDs no detection reads and the rest process creations:
        // nearly every record is read without rendering.
        if name.starts_with("APTSimulatorVM") {
            assert!(
                tally.planned() * 100 > 99 * (tally.planned() + tally.rendered),
                "{tally:?}"
            );
            assert!(tally.counted > 600 && tally.events > 600, "{tally:?}");
        }
    }
}

/// What reading `file` gives: each member's figures and every event.
fn read(file: &[u8], prefilter: bool) -> (String, Vec<(RawEvent, usize, u64)>) {
    let mut events = Vec::new();
    let mut input = Input::with_prefilter("damaged.evtx", prefilter);
    input.feed(file, &mut |event, member, line| events.push((event, member, line)));
    let members = input.finish(&mut |event, member, line| events.push((event, member, line)));
    (format!("{members:?}"), events)
}

/// A small xorshift generator, so that the damage is the same on every run.
struct Damage(u64);

impl Damage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// Reads `rounds` damaged copies of the file's first `chunks` chunks with the prefilter on
/// and off; returns how many read otherwise than the undamaged copy.
fn check_damaged(file: &[u8], chunks: usize, rounds: usize, damage: &mut Damage) -> usize {
    let original = &file[..FILE_HEADER_BYTES + chunks * CHUNK_BYTES];
    let undamaged = read(original, true);
    let mut read_differently = 0;
    for round in 0..rounds {
        let mut damaged = original.to_vec();
        let chunk = FILE_HEADER_BYTES + CHUNK_BYTES * damage.below(chunks);
        for _ in 0..1 + damage.below(4) {
            // Records start after the chunk header; half the damage goes to the first ones,
            // which define the templates the others use.
            let span = if damage.below(2) == 0 { 4096 } else { CHUNK_BYTES - 512 };
            let at = chunk + 512 + damage.below(span);
            damaged[at] = match damage.below(4) {
                0 => damaged[at] ^ 1,
                1 => 0,
                2 => damage.next() as u8,
                _ => damaged[at].wrapping_add(1),
            };
        }
        let on = read(&damaged, true);
        let off = read(&damaged, false);
        assert_eq!(on.0, off.0, "round {round}: figures");
        assert!(on.1 == off.1, "round {round}: events differ");
        read_differently += usize::from(on != undamaged);
    }
    read_differently
}

#[test]
fn damaged_records_read_the_same_with_the_prefilter_on_and_off() {
    let mut damage = Damage(0x9e37_79b9_7f4a_7c15);
    // Process creations and other events over two chunks, templates defined in place and
    // reused; network connections in one.
    for (name, chunks) in [("APTSimulatorVM", 2), ("DE_sysmon-3-rdp-tun", 1)] {
        let Some(path) = dataset_files().into_iter().find(|path| {
            path.file_name()
                .is_some_and(|file| file.to_string_lossy().starts_with(name))
        }) else {
            continue;
        };
        let file = std::fs::read(path).expect("a readable dataset");
        let read_differently = check_damaged(&file, chunks, 400, &mut damage);
        // The damage reached what is read, not only bytes nobody looks at.
        assert!(read_differently > 100, "{name}: {read_differently}");
    }
}
