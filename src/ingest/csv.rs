//! Splunk search exports saved as CSV: one row per event, the event's XML in `_raw`.
//!
//! Rows are found with csv-core's push parser (quoted `_raw` values span lines), then
//! each `_raw` is parsed as an event; `_time` and `host` come along as Splunk wrote them.

use super::{MAX_RECORD_BYTES, json};
use crate::ingest::RawEvent;
use csv_core::{ReadRecordResult, Reader};

/// Splits CSV text into rows and turns each into an event.
pub struct CsvRows {
    reader: Reader,
    /// Field bytes of the row being read, and where each field ends.
    fields: Vec<u8>,
    ends: Vec<usize>,
    field_len: usize,
    end_count: usize,
    header: Option<Vec<String>>,
    line: u64,
    row_line: u64,
    /// True until the first byte of the next row is seen (its line is then known).
    at_row_start: bool,
    too_long: bool,
}

impl Default for CsvRows {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvRows {
    pub fn new() -> Self {
        Self {
            reader: Reader::new(),
            fields: vec![0; 64 << 10],
            ends: vec![0; 64],
            field_len: 0,
            end_count: 0,
            header: None,
            line: 1,
            row_line: 1,
            at_row_start: true,
            too_long: false,
        }
    }

    /// Reads `input`; each complete row goes to `emit` with its line, parsed or not.
    pub fn feed(&mut self, mut input: &[u8], at_eof: bool, emit: &mut dyn FnMut(u64, Result<RawEvent, String>)) {
        loop {
            if self.at_row_start {
                // Line ends between rows are dropped here (csv-core skips them too), so the
                // row's first line is known when its first byte arrives.
                let blank = input.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                self.line += memchr::memchr_iter(b'\n', &input[..blank]).count() as u64;
                input = &input[blank..];
                if !input.is_empty() {
                    self.row_line = self.line;
                    self.at_row_start = false;
                }
            }
            // An empty read tells csv-core the input has ended; only send one at the end.
            if input.is_empty() && !at_eof {
                return;
            }
            let (result, read, written, ends) = self.reader.read_record(
                input,
                &mut self.fields[self.field_len..],
                &mut self.ends[self.end_count..],
            );
            self.line += memchr::memchr_iter(b'\n', &input[..read]).count() as u64;
            input = &input[read..];
            self.field_len += written;
            self.end_count += ends;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.grow_fields(),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => self.row(emit),
                ReadRecordResult::End => return,
            }
        }
    }

    fn grow_fields(&mut self) {
        if self.fields.len() >= MAX_RECORD_BYTES {
            self.too_long = true;
            self.field_len = 0;
        } else {
            self.fields.resize(self.fields.len() * 2, 0);
        }
    }

    fn row(&mut self, emit: &mut dyn FnMut(u64, Result<RawEvent, String>)) {
        let line = self.row_line;
        self.at_row_start = true;
        let values: Vec<String> = (0..self.end_count)
            .map(|i| {
                let start = if i == 0 { 0 } else { self.ends[i - 1] };
                String::from_utf8_lossy(&self.fields[start..self.ends[i]]).into_owned()
            })
            .collect();
        let too_long = std::mem::take(&mut self.too_long);
        self.field_len = 0;
        self.end_count = 0;
        let Some(header) = &self.header else {
            self.header = Some(values);
            return;
        };
        if too_long {
            return emit(
                line,
                Err(format!("CSV row larger than {} MiB skipped", MAX_RECORD_BYTES >> 20)),
            );
        }
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| values.get(i))
                .cloned()
        };
        // The event as Splunk indexed it is the row's `_raw`: that is its record.
        let parsed = match column("_raw") {
            Some(raw) => json::splunk::event_from(&raw, column("_time"), column("host")).map(|mut event| {
                event.keep_record(raw.as_bytes());
                event
            }),
            None => Err("CSV row without a _raw column".to_string()),
        };
        emit(line, parsed);
    }
}

/// A first line that names Splunk's `_raw` column.
pub fn looks_like_splunk_csv(first_line: &[u8]) -> bool {
    let line = String::from_utf8_lossy(first_line);
    line.split(',').any(|field| field.trim().trim_matches('"') == "_raw")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, piece: usize) -> Vec<String> {
        let mut csv = CsvRows::new();
        let mut out = Vec::new();
        let mut emit = |line: u64, parsed: Result<RawEvent, String>| match parsed {
            Ok(event) => {
                let time = event.shipper_time.clone().map(|t| t.1).unwrap_or_default();
                out.push(format!("{line}:{}:{time}", event.get("Image").unwrap_or("")))
            }
            Err(err) => out.push(format!("{line}:error:{err}")),
        };
        let bytes = text.as_bytes();
        for chunk in bytes.chunks(piece) {
            csv.feed(chunk, false, &mut emit);
        }
        csv.feed(&[], true, &mut emit);
        out
    }

    #[test]
    fn quoted_multiline_raw_values() {
        let raw = "<Event><System><Provider Name=\"\"Microsoft-Windows-Sysmon\"\"/><EventID>1</EventID></System>\n<EventData><Data Name=\"\"Image\"\">C:\\cmd.exe</Data></EventData></Event>";
        let text =
            format!("\"_time\",host,\"_raw\"\r\n\"2024-05-01T19:00:00.000+09:00\",W1,\"{raw}\"\r\n2024,W2,not xml\r\n");
        for piece in [1, 3, 64, 4096] {
            assert_eq!(
                rows(&text, piece),
                [
                    "2:C:\\cmd.exe:2024-05-01T19:00:00.000+09:00",
                    "4:error:Splunk result's _raw is not an XML event (only XmlWinEventLog exports are read)"
                ],
                "piece {piece}"
            );
        }
    }

    #[test]
    fn header_detection() {
        assert!(looks_like_splunk_csv(b"\"_serial\",\"_time\",\"_raw\""));
        assert!(looks_like_splunk_csv(b"_time,_raw,host"));
        assert!(!looks_like_splunk_csv(b"{\"_raw\": 1}"));
    }
}
