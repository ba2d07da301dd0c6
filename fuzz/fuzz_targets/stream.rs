//! Arbitrary bytes under every file kind, optionally in a container, fed in arbitrary
//! chunks with the prefilter on or off: the analysis must not panic, hang or run out
//! of memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysmon_lens_fuzz::{File, report};

fuzz_target!(|data: &[u8]| {
    let (file, chunking, prefilter) = File::from_stream_input(data);
    report(&file, &chunking, prefilter);
});
