//! The discovery programs the hardened spawn-discovery reading looks for.
//!
//! Each program is matched by file name and by its real OriginalFileName, which is not
//! always the file name (cmd.exe is "Cmd.Exe", nltest.exe "nltestrk.exe", systeminfo.exe
//! "sysinfo.exe"), so a renamed copy is still seen. The list is the seed's "add other known
//! discovery processes"; users may edit it, the published list never changes.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryProgram {
    pub file_name: String,
    pub original_file_name: String,
}

/// The extended list used unless the user supplies another.
pub fn default_programs() -> Vec<DiscoveryProgram> {
    [
        ("powershell.exe", "PowerShell.EXE"),
        ("pwsh.exe", "pwsh.dll"),
        ("cmd.exe", "Cmd.Exe"),
        ("nltest.exe", "nltestrk.exe"),
        ("ipconfig.exe", "ipconfig.exe"),
        ("systeminfo.exe", "sysinfo.exe"),
        ("whoami.exe", "whoami.exe"),
        ("net.exe", "net.exe"),
        ("net1.exe", "net1.exe"),
        ("tasklist.exe", "tasklist.exe"),
        ("quser.exe", "quser.exe"),
        ("qwinsta.exe", "qwinsta.exe"),
        ("arp.exe", "arp.exe"),
        ("route.exe", "route.exe"),
        ("netstat.exe", "netstat.exe"),
        ("hostname.exe", "hostname.exe"),
        ("nslookup.exe", "nslookup.exe"),
        ("getmac.exe", "getmac.exe"),
        ("wmic.exe", "wmic.exe"),
        ("dsquery.exe", "dsquery.exe"),
    ]
    .into_iter()
    .map(|(file_name, original_file_name)| DiscoveryProgram {
        file_name: file_name.into(),
        original_file_name: original_file_name.into(),
    })
    .collect()
}
