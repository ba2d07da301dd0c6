//! Where two reports first differ, so a mismatch names its field instead of dumping
//! two whole documents.

use serde_json::Value;

/// Longest rendering of a differing value in a message.
const MAX_SHOWN: usize = 300;

/// The JSON path of the first difference between `a` and `b`, with both values there.
pub fn first(a: &Value, b: &Value) -> Option<String> {
    find(a, b, "$")
}

fn find(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = a.keys().chain(b.keys().filter(|key| !a.contains_key(*key)));
            keys.into_iter().find_map(|key| match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) => find(x, y, &format!("{path}.{key}")),
                (x, y) => Some(shown(&format!("{path}.{key}"), x, y)),
            })
        }
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(index, (x, y))| find(x, y, &format!("{path}[{index}]")))
            .or_else(|| (x.len() != y.len()).then(|| format!("{path}: {} items against {}", x.len(), y.len()))),
        _ if a == b => None,
        _ => Some(shown(path, Some(a), Some(b))),
    }
}

fn shown(path: &str, a: Option<&Value>, b: Option<&Value>) -> String {
    let render = |value: Option<&Value>| {
        let text = value.map_or_else(|| "(absent)".to_string(), Value::to_string);
        text.chars().take(MAX_SHOWN).collect::<String>()
    };
    format!("at {path}: {} against {}", render(a), render(b))
}
