//! The two detections' published metadata, as data.
//!
//! Copied from the Splunk security_content documents the product implements: names,
//! ids, versions, risk figures and messages, annotations and the SPL text itself.

/// What a detection declares about itself; matching lives beside it in code.
#[derive(Debug, PartialEq)]
pub struct DetectionMeta {
    pub id: &'static str,
    pub name: &'static str,
    pub version: u32,
    /// "TTP" or "Anomaly".
    pub kind: &'static str,
    pub author: &'static str,
    pub description: &'static str,
    pub search: &'static str,
    /// The fields of its output rows (the search's `table` or `tstats … by`, and those the
    /// hardened reading adds): the only fields a suppression rule can test.
    pub output_fields: &'static [&'static str],
    pub how_to_implement: &'static str,
    pub known_false_positives: &'static str,
    /// What the published search does that a reader of its description might not expect.
    pub published_quirks: &'static [&'static str],
    pub analytic_stories: &'static [&'static str],
    pub references: &'static [&'static str],
    pub data_sources: &'static [&'static str],
    /// The Sysmon EventIDs its searches read: the prefilter parses these and counts the rest.
    pub event_ids: &'static [u32],
    pub mitre_attack_ids: &'static [&'static str],
    pub kill_chain_phases: &'static [&'static str],
    pub nist: &'static [&'static str],
    pub cis20: &'static [&'static str],
    pub risk: RiskMeta,
}

/// Risk-based alerting settings: the score on each risk object and the message.
#[derive(Debug, PartialEq)]
pub struct RiskMeta {
    pub score: u32,
    /// Impact and confidence, where the document gives them (score = impact × confidence / 100).
    pub impact: Option<u32>,
    pub confidence: Option<u32>,
    /// Risk message with `$field$` tokens filled from the output row.
    pub message: &'static str,
    /// (row field, risk object type).
    pub objects: &'static [(&'static str, &'static str)],
    /// Row fields named as threat objects.
    pub threat_objects: &'static [&'static str],
}

const HOW_TO_IMPLEMENT: &str = "The detection is based on data that originates from Endpoint Detection and Response (EDR) agents. These agents are designed to provide security-related telemetry from the endpoints where the agent is installed. To implement this search, you must ingest logs that contain the process GUID, process name, and parent process. Additionally, you must ingest complete command-line executions. These logs must be processed using the appropriate Splunk Technology Add-ons that are specific to the EDR product. The logs must also be mapped to the Processes node of the Endpoint data model. Use the Splunk Common Information Model (CIM) to normalize the field names and speed up the data modeling process.";

const STORY: &str = "Windows System Binary Proxy Execution MSIExec";

pub static SPAWN_DISCOVERY: DetectionMeta = DetectionMeta {
    id: "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee",
    name: "Windows MSIExec Spawn Discovery Command",
    version: 1,
    kind: "TTP",
    author: "Michael Haag, Splunk",
    description: "The following analytic identifies MSIExec spawning multiple discovery commands, including spawning Cmd.exe or PowerShell.exe. Typically, child processes are not common from MSIExec other than MSIExec spawning itself.",
    search: "| tstats `security_content_summariesonly` count min(_time) as firstTime max(_time) as lastTime from datamodel=Endpoint.Processes where Processes.parent_process_name=msiexec.exe Processes.process_name IN (\"powershell.exe\",\"cmd.exe\", \"nltest.exe\",\"ipconfig.exe\",\"systeminfo.exe\") by Processes.dest Processes.user Processes.parent_process_name Processes.process_name Processes.original_file_name Processes.process Processes.process_id Processes.parent_process_id \n| `drop_dm_object_name(Processes)` \n| `security_content_ctime(firstTime)` \n| `security_content_ctime(lastTime)` \n| `windows_msiexec_spawn_discovery_command_filter`",
    output_fields: &[
        "dest",
        "user",
        "parent_process_name",
        "process_name",
        "original_file_name",
        "process",
        "process_id",
        "parent_process_id",
        "count",
        "firstTime",
        "lastTime",
    ],
    how_to_implement: HOW_TO_IMPLEMENT,
    known_false_positives: "False positives will be present with MSIExec spawning Cmd or PowerShell. Filtering will be needed. In addition, add other known discovery processes to enhance query.",
    published_quirks: &[
        "Children are matched by file name only: a renamed cmd.exe or powershell.exe is not seen, though original_file_name is in the output.",
        "Of the discovery programs only nltest, ipconfig and systeminfo are listed; whoami, net and others are not.",
        "A missing field becomes the text \"null\" (fillnull_value=null), so the row is kept.",
    ],
    analytic_stories: &[STORY],
    references: &[
        "https://research.splunk.com/endpoint/e9d05aa2-32f0-411b-930c-5b8ca5c4fcee/",
        "https://attack.mitre.org/techniques/T1218/007/",
    ],
    data_sources: &["Sysmon EventID 1"],
    event_ids: &[1],
    mitre_attack_ids: &["T1218.007"],
    kill_chain_phases: &["Exploitation"],
    nist: &["DE.CM"],
    cis20: &["CIS 10"],
    risk: RiskMeta {
        score: 35,
        impact: Some(70),
        confidence: Some(50),
        message: "An instance of $parent_process_name$ spawning $process_name$ was identified on endpoint $dest$ by user $user$ running different discovery commands.",
        objects: &[("dest", "system"), ("user", "user")],
        threat_objects: &["parent_process_name", "process_name"],
    },
};

pub static HTTP_FROM_MSIEXEC: DetectionMeta = DetectionMeta {
    id: "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99",
    name: "Windows HTTP Network Communication From MSIExec",
    version: 10,
    kind: "Anomaly",
    author: "Michael Haag, Splunk",
    description: "The following analytic detects MSIExec making network connections over ports 443 or 80. This behavior is identified by correlating process creation events from Endpoint Detection and Response (EDR) agents with network traffic logs. Typically, MSIExec does not perform network communication to the internet, making this activity unusual and potentially indicative of malicious behavior. If confirmed malicious, an attacker could be using MSIExec to download or communicate with external servers, potentially leading to data exfiltration, command and control (C2) communication, or further malware deployment.",
    search: "| tstats `security_content_summariesonly`\n count\n FROM datamodel=Endpoint.Processes where\n `process_msiexec`\n by _time Processes.action Processes.dest Processes.original_file_name\n Processes.parent_process Processes.parent_process_exec\n Processes.parent_process_guid Processes.parent_process_id\n Processes.parent_process_name Processes.parent_process_path\n Processes.process Processes.process_exec Processes.process_guid\n Processes.process_hash Processes.process_id\n Processes.process_integrity_level Processes.process_name\n Processes.process_path Processes.user Processes.user_id\n Processes.vendor_product\n| `drop_dm_object_name(Processes)`\n| `security_content_ctime(firstTime)`\n| `security_content_ctime(lastTime)`\n| join process_id [\n | tstats `security_content_summariesonly`\n count\n FROM datamodel=Network_Traffic.All_Traffic where\n All_Traffic.dest_port IN (\"80\",\"443\")\n by All_Traffic.action All_Traffic.app All_Traffic.bytes\n All_Traffic.bytes_in All_Traffic.bytes_out All_Traffic.dest\n All_Traffic.dest_ip All_Traffic.dest_port All_Traffic.dvc\n All_Traffic.protocol All_Traffic.protocol_version All_Traffic.src\n All_Traffic.src_ip All_Traffic.src_port All_Traffic.transport\n All_Traffic.user All_Traffic.vendor_product All_Traffic.direction\n All_Traffic.process_id\n | `drop_dm_object_name(All_Traffic)`\n]\n| table _time user dest parent_process_name process_name\n process_path process process_id dest_port dest_ip\n| `windows_http_network_communication_from_msiexec_filter`",
    output_fields: &[
        "_time",
        "user",
        "dest",
        "dest_host",
        "parent_process_name",
        "process_name",
        "process_path",
        "process",
        "process_id",
        "dest_port",
        "dest_ip",
    ],
    how_to_implement: HOW_TO_IMPLEMENT,
    known_false_positives: "False positives will be present and filtering is required.",
    published_quirks: &[
        "The join is on process_id alone: a connection from any process with the same PID, on any host, at any time, is attached.",
        "join max=1 keeps one connection per process row; the others are not shown.",
        "join overwrite=true: dest and user come from the connection, so dest is the remote host, not the endpoint.",
        "Seconds are kept in _time (tstats by _time without a span is read as one-second buckets).",
    ],
    analytic_stories: &[STORY],
    references: &[
        "https://research.splunk.com/endpoint/b0fd38c7-f71a-43a2-870e-f3ca06bcdd99/",
        "https://attack.mitre.org/techniques/T1218/007/",
    ],
    data_sources: &[
        "Cisco Network Visibility Module Flow Data",
        "Sysmon EventID 1",
        "Sysmon EventID 3",
    ],
    event_ids: &[1, 3],
    mitre_attack_ids: &["T1218.007"],
    kill_chain_phases: &["Exploitation"],
    nist: &["DE.AE"],
    cis20: &["CIS 10"],
    risk: RiskMeta {
        score: 20,
        impact: None,
        confidence: None,
        message: "An instance of $process_name$ was identified on endpoint $dest$ contacting a remote destination $dest_ip$",
        objects: &[("dest", "system"), ("user", "user")],
        threat_objects: &["parent_process_name", "process_name"],
    },
};

/// Every detection the product runs.
pub static ALL: [&DetectionMeta; 2] = [&SPAWN_DISCOVERY, &HTTP_FROM_MSIEXEC];

#[cfg(test)]
mod tests {
    use super::*;

    /// The EventIDs a detection reads are those of its published Sysmon data sources.
    #[test]
    fn event_ids_are_those_of_the_sysmon_data_sources() {
        for detection in ALL {
            let from_sources: Vec<u32> = detection
                .data_sources
                .iter()
                .filter_map(|source| source.strip_prefix("Sysmon EventID "))
                .map(|id| id.parse().expect("a number"))
                .collect();
            assert_eq!(from_sources, detection.event_ids, "{}", detection.name);
        }
    }

    #[test]
    fn the_prefilter_parses_exactly_the_eventids_some_detection_reads() {
        let parsed: Vec<u32> = (0..=255)
            .filter(|&id| crate::ingest::prefilter::is_read_by_detections(id))
            .collect();
        assert_eq!(parsed, [1, 3]);
    }
}
