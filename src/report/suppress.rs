//! Suppression rules: an analyst's "known, hide it" (a finding whose output-row field
//! equals, contains or matches a wildcard), in the file the page exports from its
//! settings, applied to a report the way the page applies them, so that the CLI
//! (`scan --rules`) and the page hide the same findings and total the same risk.
//!
//! Values compare case-insensitively, as Splunk compares field values; `*` in a wildcard
//! is any run of characters and nothing else is special. The matcher is linear in the
//! text: a rule from a file cannot make it backtrack.

use crate::detect::meta;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// At most this many rules, as the page keeps.
const MAX_RULES: usize = 256;
/// Lengths in UTF-16 code units, as the page counts them.
const MAX_DETECTION_ID: usize = 64;
const MAX_FIELD: usize = 128;
const MAX_VALUE: usize = 2048;
/// Output fields that always hold a whole number.
const NUMBER_FIELDS: [&str; 4] = ["count", "process_id", "parent_process_id", "dest_port"];

/// How a rule compares a field's value with its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    Equals,
    Contains,
    Wildcard,
}

impl MatchKind {
    const ALL: [(&'static str, MatchKind); 3] = [
        ("equals", MatchKind::Equals),
        ("contains", MatchKind::Contains),
        ("wildcard", MatchKind::Wildcard),
    ];
}

/// One rule: findings of `detection_id` (or of any, `*`) whose `field` matches `value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub detection_id: String,
    pub field: String,
    #[serde(rename = "match")]
    pub kind: MatchKind,
    pub value: String,
}

/// Why a rules file was refused: each rule's problem, numbered from 1 as the page numbers them.
#[derive(Debug)]
pub struct RulesError(pub Vec<String>);

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for RulesError {}

/// Reads a rules file (a JSON list of `{detection_id, field, match, value}`), refusing it
/// whole when any rule is malformed or could never match: a batch run must not drop a
/// suppression silently.
pub fn parse_rules(text: &str) -> Result<Vec<Rule>, RulesError> {
    let value: Value = serde_json::from_str(text).map_err(|err| RulesError(vec![format!("not JSON: {err}")]))?;
    let Value::Array(entries) = value else {
        return Err(RulesError(vec!["not a list of rules".to_string()]));
    };
    if entries.len() > MAX_RULES {
        return Err(RulesError(vec![format!(
            "{} rules, more than {MAX_RULES}",
            entries.len()
        )]));
    }
    let mut rules = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match rule_of(entry).and_then(|rule| never_matches(&rule).map_or(Ok(rule), Err)) {
            Ok(rule) => rules.push(rule),
            Err(problem) => problems.push(format!("rule #{}: {problem}", i + 1)),
        }
    }
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(RulesError(problems))
    }
}

fn rule_of(entry: &Value) -> Result<Rule, String> {
    let Value::Object(entry) = entry else {
        return Err("not an object".to_string());
    };
    let text = |key: &str, max: usize| match entry.get(key) {
        Some(Value::String(s)) if !s.is_empty() && s.encode_utf16().count() <= max => Some(s.clone()),
        _ => None,
    };
    let detection_id = text("detection_id", MAX_DETECTION_ID).ok_or("detection_id is not a detection id or *")?;
    let field =
        text("field", MAX_FIELD).ok_or_else(|| format!("field is not a text of 1 to {MAX_FIELD} characters"))?;
    let names: Vec<&str> = MatchKind::ALL.iter().map(|(name, _)| *name).collect();
    let kind = MatchKind::ALL
        .iter()
        .find(|(name, _)| entry.get("match").and_then(Value::as_str) == Some(name))
        .map(|(_, kind)| *kind)
        .ok_or_else(|| format!("match is not one of {}", names.join(", ")))?;
    let value =
        text("value", MAX_VALUE).ok_or_else(|| format!("value is not a text of 1 to {MAX_VALUE} characters"))?;
    Ok(Rule {
        detection_id,
        field,
        kind,
        value,
    })
}

/// Why a well-formed rule can never suppress anything, or `None`.
fn never_matches(rule: &Rule) -> Option<String> {
    let any = rule.detection_id == "*";
    let detections: Vec<_> = meta::ALL.iter().filter(|m| any || m.id == rule.detection_id).collect();
    if detections.is_empty() {
        return Some(format!("no detection has the id {}", rule.detection_id));
    }
    let mut fields: Vec<&str> = detections
        .iter()
        .flat_map(|m| m.output_fields.iter().copied())
        .collect();
    let mut seen = std::collections::HashSet::new();
    fields.retain(|field| seen.insert(*field));
    if !fields.contains(&rule.field.as_str()) {
        let scope = if any { "no detection" } else { "this detection" };
        return Some(format!(
            "{scope} outputs a field {} (its fields: {}), so it would never match",
            rule.field,
            fields.join(", ")
        ));
    }
    let allowed = |c: char| c.is_ascii_digit() || (rule.kind == MatchKind::Wildcard && c == '*');
    if NUMBER_FIELDS.contains(&rule.field.as_str()) && !rule.value.chars().all(allowed) {
        let verb = if rule.kind == MatchKind::Equals {
            "equal"
        } else {
            "match"
        };
        return Some(format!(
            "{} is always a whole number, which \"{}\" can never {verb}",
            rule.field, rule.value
        ));
    }
    None
}

/// A rule with its value lower-cased (and split on `*` for a wildcard) once.
struct Compiled<'a> {
    rule: &'a Rule,
    wanted: String,
    pieces: Vec<String>,
}

/// Per finding (`(detection_id, row)`), the index of the first rule that suppresses it.
pub fn suppressed_by<'r>(
    findings: impl Iterator<Item = (&'r str, &'r serde_json::Map<String, Value>)>,
    rules: &[Rule],
) -> Vec<Option<usize>> {
    let compiled: Vec<Compiled<'_>> = rules
        .iter()
        .map(|rule| {
            let wanted = rule.value.to_lowercase();
            let pieces = wanted.split('*').map(str::to_string).collect();
            Compiled { rule, wanted, pieces }
        })
        .collect();
    findings
        .map(|(detection_id, row)| {
            compiled.iter().position(|c| {
                if c.rule.detection_id != "*" && c.rule.detection_id != detection_id {
                    return false;
                }
                let Some(value) = row.get(&c.rule.field) else {
                    return false;
                };
                let value = text_of(value).to_lowercase();
                match c.rule.kind {
                    MatchKind::Equals => value == c.wanted,
                    MatchKind::Contains => value.contains(&c.wanted),
                    MatchKind::Wildcard => pieces_match(&c.pieces, &value),
                }
            })
        })
        .collect()
}

/// A field's value as text, as the page's `String(value)` gives it.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Array(items) => items
            .iter()
            .map(|item| if item.is_null() { String::new() } else { text_of(item) })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_string(),
        other => other.to_string(),
    }
}

/// Whether `text` matches the wildcard split on `*` into `pieces` (both lower case): the
/// pieces between the first and the last are found in order, each at its leftmost place,
/// which is always the best one, so nothing is retried.
fn pieces_match(pieces: &[String], text: &str) -> bool {
    let [first, middle @ .., last] = pieces else {
        return pieces.first().is_some_and(|only| only == text);
    };
    if text.len() < first.len() + last.len() || !text.starts_with(first.as_str()) {
        return false;
    }
    let end = text.len() - last.len();
    let mut at = first.len();
    for piece in middle.iter().filter(|piece| !piece.is_empty()) {
        match text[at..].find(piece.as_str()) {
            Some(found) if at + found + piece.len() <= end => at += found + piece.len(),
            _ => return false,
        }
    }
    text.ends_with(last.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wildcard(pattern: &str, text: &str) -> bool {
        let pieces: Vec<String> = pattern.to_lowercase().split('*').map(str::to_string).collect();
        pieces_match(&pieces, &text.to_lowercase())
    }

    #[test]
    fn wildcard_star_is_any_run_and_nothing_else_is_special() {
        assert!(wildcard("*", ""));
        assert!(wildcard("cmd.exe", "CMD.EXE"));
        assert!(!wildcard("cmd.exe", "cmd.exe "));
        assert!(wildcard("c*d*.exe", "cmd.exe"));
        assert!(wildcard("*.exe", ".exe"));
        assert!(!wildcard("a*a", "a"), "first and last may not overlap");
        assert!(wildcard("a*a", "aa"));
        assert!(!wildcard("c?d", "cmd"));
        assert!(wildcard("[x]*", "[x]y"));
        assert!(!wildcard("*ab*ab*", "aab"));
        assert!(wildcard("*ab*ab*", "abxab"));
    }

    #[test]
    fn wildcard_cases_as_the_page_documents_them() {
        for (pattern, text, expected) in [
            ("**", "", true),
            ("abc", "xabc", false),
            ("a*c", "ac", true),
            ("a*c", "acb", false),
            ("a**c", "ac", true),
            ("ab*ba", "aba", false),
            ("ab*ba", "abba", true),
            ("*a*b*", "xbxax", false),
            ("*aa*ab", "aaab", true),
            ("*aa*ab", "aab", false),
            ("C:\\Windows\\*\\CMD.EXE", "c:\\windows\\system32\\cmd.exe", true),
            ("a.c", "abc", false),
            ("(x)+[y]?$", "(X)+[Y]?$", true),
            ("^a", "a", false),
            ("İ*", "i̇x", true),
        ] {
            assert_eq!(wildcard(pattern, text), expected, "{pattern} on {text}");
        }
    }

    /// Patterns a backtracking matcher would take minutes over, on 100,000 characters:
    /// each piece is searched once, left to right.
    #[test]
    fn wildcard_catastrophic_patterns_on_a_long_text() {
        let text = "a".repeat(100_000);
        let long = "a".repeat(1000);
        for (pattern, expected) in [
            (format!("{}*b", "*a".repeat(22)), false),
            (format!("{}*", "*a".repeat(22)), true),
            (format!("*{long}b*"), false),
            (format!("*{long}*{long}*b"), false),
            (format!("*{long}*{long}*"), true),
        ] {
            assert_eq!(wildcard(&pattern, &text), expected, "{} characters", pattern.len());
        }
    }

    #[test]
    fn wildcard_agrees_with_an_anchored_search_over_every_short_case() {
        // Every pattern over {a, b, *} up to 5 characters against every text over {a, b} up to 5.
        let words = |alphabet: &[char], max: usize| {
            let mut all = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                    .collect();
                all.extend(last.iter().cloned());
            }
            all
        };
        fn reference(p: &[char], t: &[char]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
                Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
            }
        }
        for pattern in words(&['a', 'b', '*'], 5) {
            for text in words(&['a', 'b'], 5) {
                let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
                assert_eq!(wildcard(&pattern, &text), reference(&p, &t), "{pattern:?} on {text:?}");
            }
        }
    }

    #[test]
    fn rules_apply_by_detection_field_and_kind_case_insensitively() {
        let rules = parse_rules(
            r#"[{"detection_id": "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee", "field": "process_name", "match": "equals", "value": "IPCONFIG.exe"},
                {"detection_id": "*", "field": "process", "match": "contains", "value": "/ALL"},
                {"detection_id": "*", "field": "process_id", "match": "wildcard", "value": "51*"}]"#,
        )
        .expect("valid rules");
        let rows = [
            json!({"process_name": "ipconfig.exe", "process": "x", "process_id": 1}),
            json!({"process_name": "cmd.exe", "process": "cmd /c ipconfig /all", "process_id": 1}),
            json!({"process_name": "cmd.exe", "process": "x", "process_id": 5120}),
            json!({"process_name": "cmd.exe", "process": "x", "process_id": 4120}),
        ];
        let rows: Vec<_> = rows.iter().filter_map(Value::as_object).collect();
        let spawn = meta::SPAWN_DISCOVERY.id;
        let http = meta::HTTP_FROM_MSIEXEC.id;
        let by = suppressed_by(rows.iter().map(|row| (spawn, *row)), &rules);
        assert_eq!(by, [Some(0), Some(1), Some(2), None]);
        let by = suppressed_by(rows.iter().map(|row| (http, *row)), &rules);
        assert_eq!(
            by,
            [None, Some(1), Some(2), None],
            "the first rule is for the other detection"
        );
    }

    #[test]
    fn a_rules_file_with_any_bad_rule_is_refused_with_each_problem_numbered() {
        let err = parse_rules(
            r#"[{"detection_id": "*", "field": "host", "match": "equals", "value": "x"},
                {"detection_id": "*", "field": "process_id", "match": "equals", "value": "12a"},
                {"detection_id": "nope", "field": "user", "match": "equals", "value": "x"},
                {"detection_id": "*", "field": "user", "match": "regex", "value": "x"},
                {"detection_id": "*", "field": "user", "match": "equals", "value": ""},
                "rule",
                {"detection_id": "*", "field": "user", "match": "equals", "value": "ok"}]"#,
        )
        .expect_err("refused");
        assert_eq!(err.0.len(), 6, "{err}");
        assert!(
            err.0[0].starts_with("rule #1: no detection outputs a field host"),
            "{err}"
        );
        assert!(err.0[1].contains("process_id is always a whole number"), "{err}");
        assert!(err.0[2].contains("no detection has the id nope"), "{err}");
        assert!(
            err.0[3].contains("match is not one of equals, contains, wildcard"),
            "{err}"
        );
        assert!(err.0[4].starts_with("rule #5: value is not a text"), "{err}");
        assert_eq!(err.0[5], "rule #6: not an object");
        assert!(parse_rules("{}").is_err());
        assert!(parse_rules("[").is_err());
        assert_eq!(parse_rules("[]").expect("no rules"), []);
    }

    #[test]
    fn a_value_is_compared_as_the_page_prints_it() {
        assert_eq!(text_of(&json!(5120)), "5120");
        assert_eq!(text_of(&json!(null)), "null");
        assert_eq!(text_of(&json!(["a", null, 1])), "a,,1");
        assert_eq!(text_of(&json!(true)), "true");
    }
}
