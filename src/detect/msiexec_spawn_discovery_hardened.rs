//! Windows MSIExec Spawn Discovery Command, hardened: what the search means.
//!
//! A child of msiexec.exe is a discovery program when its file name or its
//! OriginalFileName is on the extended, user-editable list: renamed copies and the
//! programs the seed asks to "add" are seen. Rows are grouped exactly as published, so
//! the two readings can be compared row by row.

use super::discovery_programs::DiscoveryProgram;
use super::msiexec_spawn_discovery::{DISCOVERY_CHILDREN, Rows, SpawnDiscovery};
use super::{Match, Mode, Seen, Why, fill_null, same};
use crate::normalize::ProcessRow;
use crate::normalize::intern::Strings;

pub struct SpawnDiscoveryHardened {
    programs: Vec<DiscoveryProgram>,
    rows: Rows,
}

impl Default for SpawnDiscoveryHardened {
    fn default() -> Self {
        Self::new(super::discovery_programs::default_programs())
    }
}

impl SpawnDiscoveryHardened {
    pub fn new(programs: Vec<DiscoveryProgram>) -> Self {
        Self {
            programs,
            rows: Rows::default(),
        }
    }

    /// The conditions a process meets, or `None` when it is not a match.
    pub fn why(&self, row: &ProcessRow) -> Option<Why> {
        if !same(&row.parent_process_name, "msiexec.exe") {
            return None;
        }
        let name = fill_null(&row.process_name);
        let ofn = fill_null(&row.original_file_name);
        let by_name = self.programs.iter().find(|p| same(&row.process_name, &p.file_name));
        let by_ofn = self
            .programs
            .iter()
            .find(|p| same(&row.original_file_name, &p.original_file_name));
        let child = match (by_name, by_ofn) {
            (Some(program), _) => format!("process_name {name} is {} on the discovery list", program.file_name),
            (None, Some(program)) => format!(
                "original_file_name {ofn} is the OriginalFileName of {}: {name} is a renamed copy",
                program.file_name
            ),
            (None, None) => return None,
        };
        let mut notes = Vec::new();
        if !SpawnDiscovery::matches(row) {
            notes.push(match (by_name, by_ofn) {
                (None, Some(program)) => format!(
                    "hardened only: the published search matches children by file name, and {name} is {} renamed",
                    program.file_name
                ),
                _ => format!(
                    "hardened only: the published search lists {} only; {name} is on the extended discovery list",
                    DISCOVERY_CHILDREN.join(", ")
                ),
            });
        }
        Some(Why {
            conditions: vec![
                format!(
                    "parent_process_name {} = msiexec.exe",
                    fill_null(&row.parent_process_name)
                ),
                child,
            ],
            notes,
        })
    }

    pub fn observe(&mut self, row: &ProcessRow, seen: &Seen, strings: &mut Strings) {
        if let Some(why) = self.why(row) {
            self.rows.add(row, seen, strings, || why);
        }
    }

    pub fn finish(self, strings: &Strings) -> Vec<Match> {
        self.rows.finish(Mode::Hardened, strings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(parent: &str, child: &str, ofn: Option<&str>) -> ProcessRow {
        ProcessRow {
            parent_process_name: Some(parent.into()),
            process_name: Some(child.into()),
            original_file_name: ofn.map(str::to_string),
            ..ProcessRow::default()
        }
    }

    #[test]
    fn renamed_and_extended_children_match_with_their_reason() {
        let hardened = SpawnDiscoveryHardened::default();
        let renamed = hardened
            .why(&row("msiexec.exe", "svc.exe", Some("Cmd.Exe")))
            .expect("renamed cmd");
        assert_eq!(
            renamed.conditions[1],
            "original_file_name Cmd.Exe is the OriginalFileName of cmd.exe: svc.exe is a renamed copy"
        );
        assert!(renamed.notes[0].starts_with("hardened only: the published search matches children by file name"));
        for (child, ofn) in [
            ("whoami.exe", "whoami.exe"),
            ("x.exe", "nltestrk.exe"),
            ("y.exe", "sysinfo.exe"),
            ("z.exe", "PowerShell.EXE"),
        ] {
            assert!(
                hardened.why(&row("MsiExec.exe", child, Some(ofn))).is_some(),
                "{child} {ofn}"
            );
        }
        let both = hardened
            .why(&row("msiexec.exe", "cmd.exe", Some("Cmd.Exe")))
            .expect("published too");
        assert!(both.notes.is_empty());
        assert!(
            hardened
                .why(&row("msiexec.exe", "notepad.exe", Some("NOTEPAD.EXE")))
                .is_none()
        );
        assert!(hardened.why(&row("explorer.exe", "cmd.exe", Some("Cmd.Exe"))).is_none());
    }

    #[test]
    fn the_list_is_the_users() {
        let only_arp = SpawnDiscoveryHardened::new(vec![DiscoveryProgram {
            file_name: "arp.exe".into(),
            original_file_name: "arp.exe".into(),
        }]);
        assert!(only_arp.why(&row("msiexec.exe", "arp.exe", None)).is_some());
        assert!(only_arp.why(&row("msiexec.exe", "cmd.exe", None)).is_none());
    }
}
