//! Bytes in gzip, zip and tar nested up to three deep (tar.gz, a .gz in a zip, …),
//! intact or damaged, read four ways (whole or in chunks, prefilter on or off): every
//! reading must give the same report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens_fuzz::{File, assert_one_report};

fuzz_target!(|data: &[u8]| {
    let (file, chunking) = File::from_containers_input(data);
    assert_one_report(&file, &chunking);
});
