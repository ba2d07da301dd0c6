//! The input of `stream`, read five ways (whole or in its chunks, prefilter on or off,
//! and cut into parts read on two threads): every reading must give the same report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens_fuzz::{File, assert_one_report};

fuzz_target!(|data: &[u8]| {
    let (file, chunking, _) = File::from_stream_input(data);
    assert_one_report(&file, &chunking);
});
