// What the user may change, kept in this browser's localStorage: the hardened
// reading's discovery list, suppression rules (the detections' *_filter macros) and
// the risk threshold. Nothing here ever leaves the page except by an explicit export.

const KEYS = {
  programs: "sysmon-lens.discovery-programs",
  rules: "sysmon-lens.suppression-rules",
  threshold: "sysmon-lens.risk-threshold",
};
export const DEFAULT_THRESHOLD = 100;

function load(key, fallback) {
  try {
    const text = localStorage.getItem(key);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback; // storage disabled, or a value that is not ours
  }
}

function save(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage is unavailable (private mode, file://): the setting lasts for this page only.
  }
}

/** The user's discovery list, or null for the built-in one. */
export const programs = () => load(KEYS.programs, null);
export const setPrograms = (list) => save(KEYS.programs, list);
export const rules = () => load(KEYS.rules, []);
export const setRules = (list) => save(KEYS.rules, list);
export const threshold = () => Number(load(KEYS.threshold, DEFAULT_THRESHOLD)) || DEFAULT_THRESHOLD;
export const setThreshold = (value) => save(KEYS.threshold, value);

/** "file_name, OriginalFileName" per line. */
export function formatPrograms(list) {
  return list.map((p) => `${p.file_name}, ${p.original_file_name}`).join("\n");
}

export function parsePrograms(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [file, original] = line.split(",").map((part) => part.trim());
    return { file_name: file, original_file_name: original || file };
  });
}

/** Checks that imported rules have the shape the page applies. */
export function validRules(value) {
  const matches = ["equals", "contains", "wildcard"];
  return Array.isArray(value) && value.every((r) => r && typeof r.field === "string" && typeof r.value === "string"
    && matches.includes(r.match) && (typeof r.detection_id === "string"));
}

/** The first rule that suppresses `finding`, if any. Values compare case-insensitively, as in Splunk. */
export function suppressedBy(finding, list) {
  return list.find((rule) => {
    if (rule.detection_id !== "*" && rule.detection_id !== finding.detection_id) return false;
    const raw = finding.row[rule.field];
    if (raw === undefined) return false;
    const value = String(raw).toLowerCase();
    const wanted = rule.value.toLowerCase();
    if (rule.match === "equals") return value === wanted;
    if (rule.match === "contains") return value.includes(wanted);
    const pattern = wanted.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
    return new RegExp(`^${pattern}$`, "s").test(value);
  }) ?? null;
}
