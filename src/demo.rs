//! A built-in sample for demonstrations: Sysmon XML the project writes itself.
//!
//! One workstation and one server, an hour apart from real data, covering each
//! detection's published hit, a hit only the hardened reading sees, the published
//! join's PID collision across hosts, and near misses for both.

use std::fmt::Write;

const NAMESPACE: &str = "http://schemas.microsoft.com/win/2004/08/events/event";
const MSIEXEC: &str = r"C:\Windows\System32\msiexec.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";

struct Sample {
    text: String,
    record: u32,
}

impl Sample {
    fn event(&mut self, event_id: u32, host: &str, second: u32, data: &[(&str, String)]) {
        self.record += 1;
        let time = format!("2025-03-14T09:{:02}:{:02}", 10 + second / 60, second % 60);
        let escape = |value: &str| {
            value
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('\'', "&apos;")
        };
        let mut fields = format!(
            "<Data Name='UtcTime'>{} {}.{:03}</Data>",
            &time[..10],
            &time[11..],
            self.record % 1000
        );
        for (name, value) in data {
            let _ = write!(fields, "<Data Name='{name}'>{}</Data>", escape(value));
        }
        let _ = writeln!(
            self.text,
            "<Event xmlns='{NAMESPACE}'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{{5770385F-C22A-43E0-BF4C-06F5698FFBD9}}'/>\
             <EventID>{event_id}</EventID><Version>5</Version><Level>4</Level><Task>{event_id}</Task><Opcode>0</Opcode>\
             <Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='{time}.{:07}Z'/><EventRecordID>{}</EventRecordID>\
             <Correlation/><Execution ProcessID='3140' ThreadID='4012'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel>\
             <Computer>{host}</Computer><Security UserID='S-1-5-18'/></System><EventData>{fields}</EventData></Event>",
            self.record * 1013 % 10_000_000,
            40_000 + self.record
        );
    }

    #[allow(clippy::too_many_arguments)] // one argument per Sysmon field the sample varies
    fn process(
        &mut self,
        host: &str,
        second: u32,
        pid: u32,
        image: &str,
        command: &str,
        ofn: &str,
        parent: (u32, &str, &str),
        user: &str,
    ) {
        let guid = |pid: u32| {
            format!(
                "{{7D3A1C52-{:04X}-67D4-0000-00000000{:04X}}}",
                pid % 0xFFFF,
                pid % 0xFFFF
            )
        };
        let data = [
            ("ProcessGuid", guid(pid)),
            ("ProcessId", pid.to_string()),
            ("Image", image.to_string()),
            ("OriginalFileName", ofn.to_string()),
            ("CommandLine", command.to_string()),
            ("CurrentDirectory", r"C:\Windows\system32\".to_string()),
            ("User", user.to_string()),
            ("IntegrityLevel", "High".to_string()),
            (
                "Hashes",
                "SHA256=5B6C1A0D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E9F8A7B".to_string(),
            ),
            ("ParentProcessGuid", guid(parent.0)),
            ("ParentProcessId", parent.0.to_string()),
            ("ParentImage", parent.1.to_string()),
            ("ParentCommandLine", parent.2.to_string()),
        ];
        self.event(1, host, second, &data);
    }

    fn connection(&mut self, host: &str, second: u32, pid: u32, image: &str, user: &str, remote: (&str, &str, u16)) {
        let data = [
            (
                "ProcessGuid",
                format!(
                    "{{7D3A1C52-{:04X}-67D4-0000-00000000{:04X}}}",
                    pid % 0xFFFF,
                    pid % 0xFFFF
                ),
            ),
            ("ProcessId", pid.to_string()),
            ("Image", image.to_string()),
            ("User", user.to_string()),
            ("Protocol", "tcp".to_string()),
            ("Initiated", "true".to_string()),
            ("SourceIp", "10.20.30.41".to_string()),
            ("SourcePort", (49_000 + second).to_string()),
            ("DestinationIp", remote.0.to_string()),
            ("DestinationHostname", remote.1.to_string()),
            ("DestinationPort", remote.2.to_string()),
        ];
        self.event(3, host, second, &data);
    }
}

/// The sample as Splunk-style XML, one event per line.
pub fn sample() -> String {
    let mut s = Sample {
        text: String::new(),
        record: 0,
    };
    let (ws, srv) = ("FIN-WS-042", "SRV-FILE01");
    let (user, system) = (r"ACME\j.doe", r"NT AUTHORITY\SYSTEM");
    let explorer = (3120, r"C:\Windows\explorer.exe", r"C:\Windows\Explorer.EXE");
    // A user opens a phishing MSI from Outlook's cache; msiexec downloads its payload.
    s.process(
        ws,
        0,
        3120,
        explorer.1,
        explorer.2,
        "EXPLORER.EXE",
        (612, r"C:\Windows\System32\userinit.exe", "userinit.exe"),
        user,
    );
    let install = r#"msiexec.exe /i "C:\Users\j.doe\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\Q7X\invoice_2025.msi" /qn"#;
    s.process(ws, 4, 4242, MSIEXEC, install, "msiexec.exe", explorer, user);
    s.connection(
        ws,
        6,
        4242,
        MSIEXEC,
        user,
        ("185.199.110.133", "cdn-updates.example", 443),
    );
    s.connection(
        ws,
        7,
        4242,
        MSIEXEC,
        user,
        ("185.199.110.134", "cdn-updates.example", 443),
    );
    let parent = (4242, MSIEXEC, install);
    // Published hit: msiexec runs cmd.exe and ipconfig.exe.
    s.process(
        ws,
        10,
        5120,
        CMD,
        r"cmd.exe /c ipconfig /all > %TEMP%\net.txt",
        "Cmd.Exe",
        parent,
        user,
    );
    s.process(
        ws,
        11,
        5124,
        r"C:\Windows\System32\ipconfig.exe",
        "ipconfig /all",
        "ipconfig.exe",
        (5120, CMD, "cmd.exe /c ipconfig /all"),
        user,
    );
    s.process(
        ws,
        12,
        5130,
        r"C:\Windows\System32\ipconfig.exe",
        "ipconfig /displaydns",
        "ipconfig.exe",
        parent,
        user,
    );
    // Hardened only: whoami (not in the published list) and a renamed cmd.exe.
    s.process(
        ws,
        14,
        5140,
        r"C:\Windows\System32\whoami.exe",
        "whoami /groups",
        "whoami.exe",
        parent,
        user,
    );
    s.process(
        ws,
        16,
        5150,
        r"C:\Users\Public\svc_helper.exe",
        "svc_helper.exe /c net group \"domain admins\" /domain",
        "Cmd.Exe",
        parent,
        user,
    );
    // Near miss for the discovery search: msiexec starts notepad.exe.
    s.process(
        ws,
        18,
        5160,
        r"C:\Windows\System32\notepad.exe",
        r"notepad.exe C:\Users\j.doe\readme.txt",
        "NOTEPAD.EXE",
        parent,
        user,
    );
    // Near miss for the HTTP search: a second msiexec talks to port 8080 only.
    s.process(
        ws,
        20,
        6010,
        MSIEXEC,
        "msiexec.exe /x {6F2A1E0C-0000-4B8E-9E71-2A9D3C1F5B10} /qn",
        "msiexec.exe",
        explorer,
        user,
    );
    s.connection(ws, 21, 6010, MSIEXEC, user, ("10.20.1.15", "wsus.acme.example", 8080));
    // PID collision: msiexec 7300 on the workstation, chrome.exe 7300 on the file server.
    s.process(
        ws,
        30,
        7300,
        MSIEXEC,
        "msiexec.exe /i C:\\Temp\\printer_driver.msi /qn",
        "msiexec.exe",
        explorer,
        system,
    );
    let chrome = r"C:\Program Files\Google\Chrome\Application\chrome.exe";
    s.process(
        srv,
        31,
        7300,
        chrome,
        r#""chrome.exe" --type=utility"#,
        "chrome.exe",
        (2210, r"C:\Windows\explorer.exe", "explorer.exe"),
        r"ACME\svc_backup",
    );
    s.connection(
        srv,
        32,
        7300,
        chrome,
        r"ACME\svc_backup",
        ("142.250.74.110", "www.google.com", 443),
    );
    s.text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Mode;

    #[test]
    fn the_sample_shows_each_case() {
        let report = crate::analyze([("demo.xml", sample().as_bytes())]);
        assert_eq!(report.files[0].ingest.skipped_count, 0);
        let rows = |detection: &str, mode: Mode| -> Vec<String> {
            report
                .findings
                .iter()
                .filter(|f| f.detection.starts_with(detection) && f.mode == mode)
                .map(|f| {
                    format!(
                        "{} {}",
                        f.row["process_name"].as_str().unwrap_or(""),
                        f.row["dest"].as_str().unwrap_or("")
                    )
                })
                .collect()
        };
        assert_eq!(
            rows("Windows MSIExec", Mode::AsPublished),
            ["cmd.exe FIN-WS-042", "ipconfig.exe FIN-WS-042"]
        );
        assert_eq!(
            rows("Windows MSIExec", Mode::Hardened),
            [
                "cmd.exe FIN-WS-042",
                "ipconfig.exe FIN-WS-042",
                "svc_helper.exe FIN-WS-042",
                "whoami.exe FIN-WS-042"
            ]
        );
        assert_eq!(
            rows("Windows HTTP", Mode::AsPublished),
            ["msiexec.exe cdn-updates.example", "msiexec.exe www.google.com"]
        );
        assert_eq!(
            rows("Windows HTTP", Mode::Hardened),
            ["msiexec.exe FIN-WS-042", "msiexec.exe FIN-WS-042"]
        );
    }
}
