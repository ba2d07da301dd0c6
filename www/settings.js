// What the user may change, kept in this browser's localStorage: the hardened
// reading's discovery list, suppression rules (the detections' *_filter macros) and
// the risk threshold. Nothing here ever leaves the page except by an explicit export.
// Whatever is read back (storage another page or extension may have written, or a
// rules file from anywhere) is checked before use: the valid parts are kept, the
// rest refused with a message. The rules are applied by the core (src/report/suppress.rs).

const KEYS = {
  programs: "sysmon-lens.discovery-programs",
  rules: "sysmon-lens.suppression-rules",
  threshold: "sysmon-lens.risk-threshold",
};
export const DEFAULT_THRESHOLD = 100;

/** Bounds on what is accepted, far above any real use and far below a frozen tab. */
const LIMITS = {
  storedChars: 1 << 20,
  programs: 1000,
  programNameChars: 260,
  rules: 256,
  detectionIdChars: 64,
  fieldChars: 128,
  ruleValueChars: 2048,
};
const MATCHES = ["equals", "contains", "wildcard"];

/**
 * Each detection's output fields (its search's `table` or `stats … by`), the only fields a
 * rule can test: from the core's list of detections (`setDetections`), given when its
 * worker is ready. Until then no rule is refused for its detection or field.
 */
const OUTPUT_FIELDS = {};
/** Takes the core's detections, `[{ id, output_fields }]`. */
export function setDetections(list) {
  for (const { id, output_fields: fields } of list) OUTPUT_FIELDS[id] = [...fields];
}
/** The fields a rule for `detectionId` (or "*", any) can test. */
export function fieldsFor(detectionId) {
  const lists = detectionId === "*" ? Object.values(OUTPUT_FIELDS) : [OUTPUT_FIELDS[detectionId] ?? []];
  return [...new Set(lists.flat())];
}
/** Fields whose values are whole numbers. */
const NUMBER_FIELDS = new Set(["count", "process_id", "parent_process_id", "dest_port"]);

/** A stored value as `{ value }`, `{}` when absent or unreadable, or `{ problem }`. */
function load(key, what) {
  let text;
  try {
    text = localStorage.getItem(key);
  } catch {
    return {}; // Storage is unavailable (private mode, file://): nothing stored.
  }
  if (text === null) return {};
  if (text.length > LIMITS.storedChars) return { problem: `Stored ${what} ignored: ${count(text.length, "character")}, over the limit of ${count(LIMITS.storedChars, "character")}.` };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { problem: `Stored ${what} ignored: not valid JSON.` };
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

const count = (n, noun) => `${n.toLocaleString("en")} ${noun}${n === 1 ? "" : "s"}`;
const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const boundedText = (value, max) => typeof value === "string" && value.length <= max;

/** Why one entry of a discovery list is refused, or null. */
function programProblem(entry) {
  if (!isRecord(entry)) return "not an object";
  const name = LIMITS.programNameChars;
  if (!boundedText(entry.file_name, name) || entry.file_name === "") return `file_name is not a text of 1 to ${name} characters`;
  if (!boundedText(entry.original_file_name, name)) return `original_file_name is not a text of up to ${name} characters`;
  return null;
}

/** Why one suppression rule is refused, or null. */
function ruleProblem(rule) {
  if (!isRecord(rule)) return "not an object";
  if (!boundedText(rule.detection_id, LIMITS.detectionIdChars) || rule.detection_id === "") return "detection_id is not a detection id or *";
  if (!boundedText(rule.field, LIMITS.fieldChars) || rule.field === "") return `field is not a text of 1 to ${LIMITS.fieldChars} characters`;
  if (!MATCHES.includes(rule.match)) return `match is not one of ${MATCHES.join(", ")}`;
  if (!boundedText(rule.value, LIMITS.ruleValueChars) || rule.value === "") return `value is not a text of 1 to ${LIMITS.ruleValueChars.toLocaleString("en")} characters`;
  return neverMatches(rule);
}

/** Why a well-formed rule can never suppress anything, or null. */
export function neverMatches(rule) {
  if (Object.keys(OUTPUT_FIELDS).length === 0) return null; // the detections are not known yet
  if (rule.detection_id !== "*" && !OUTPUT_FIELDS[rule.detection_id]) return `no detection has the id ${rule.detection_id}`;
  const fields = fieldsFor(rule.detection_id);
  const scope = rule.detection_id === "*" ? "no detection" : "this detection";
  if (!fields.includes(rule.field)) return `${scope} outputs a field ${rule.field} (its fields: ${fields.join(", ")}), so it would never match`;
  const digitsOnly = rule.match === "wildcard" ? /^[0-9*]+$/ : /^[0-9]+$/;
  if (NUMBER_FIELDS.has(rule.field) && !digitsOnly.test(rule.value)) return `${rule.field} is always a whole number, which "${rule.value}" can never ${rule.match === "equals" ? "equal" : "match"}`;
  return null;
}

/**
 * Keeps the valid entries of a list (as fresh objects holding only the known keys) and
 * says in one message what was refused; `null` for the list when it is not a list at all.
 * `noun` names one entry ("stored suppression rule").
 */
function checkList(value, { noun, max, problemOf, copy }) {
  if (!Array.isArray(value)) return { list: null, problems: [`The ${noun}s are not a list and were ignored.`] };
  const refused = [];
  const list = [];
  value.slice(0, max).forEach((entry, i) => {
    const problem = problemOf(entry);
    if (problem) refused.push(`#${i + 1}: ${problem}`);
    else list.push(copy(entry));
  });
  const extra = Math.max(0, value.length - max);
  const ignored = refused.length + extra;
  if (ignored === 0) return { list, problems: [] };
  const verb = ignored === 1 ? "was" : "were";
  const reasons = [...refused.slice(0, 3), ...(refused.length > 3 ? ["…"] : []), ...(extra ? [`more than ${max} in all`] : [])];
  return { list, problems: [`${count(ignored, noun)} ${verb} not valid and ${verb} ignored (${reasons.join("; ")}).`] };
}

/** A discovery list read from anywhere: `{ programs, problems }`, programs null when unusable. */
function checkPrograms(value, noun = "discovery program") {
  const { list, problems } = checkList(value, {
    noun, max: LIMITS.programs, problemOf: programProblem,
    copy: (p) => ({ file_name: p.file_name, original_file_name: p.original_file_name }),
  });
  // A list of which nothing is usable falls back to the built-in one; an empty list is a choice.
  return { programs: list?.length === 0 && value.length > 0 ? null : list, problems };
}

/** Suppression rules read from anywhere (storage, an imported file): `{ rules, problems }`. */
export function checkRules(value, noun = "suppression rule") {
  const { list, problems } = checkList(value, {
    noun, max: LIMITS.rules, problemOf: ruleProblem,
    copy: (r) => ({ detection_id: r.detection_id, field: r.field, match: r.match, value: r.value }),
  });
  return { rules: list ?? [], problems };
}

/** A risk threshold read from anywhere: `{ threshold, problems }`; only a positive whole number is one. */
function checkThreshold(value, what = "risk threshold") {
  if (Number.isSafeInteger(value) && value > 0) return { threshold: value, problems: [] };
  return { threshold: DEFAULT_THRESHOLD, problems: [`The ${what} is not a positive whole number; ${DEFAULT_THRESHOLD} is used.`] };
}

const stored = {
  programs: () => {
    const { value, problem } = load(KEYS.programs, "discovery programs");
    if (value === undefined) return { programs: null, problems: problem ? [problem] : [] };
    return checkPrograms(value, "stored discovery program");
  },
  rules: () => {
    const { value, problem } = load(KEYS.rules, "suppression rules");
    if (value === undefined) return { rules: [], problems: problem ? [problem] : [] };
    return checkRules(value, "stored suppression rule");
  },
  threshold: () => {
    const { value, problem } = load(KEYS.threshold, "risk threshold");
    if (value === undefined) return { threshold: DEFAULT_THRESHOLD, problems: problem ? [problem] : [] };
    return checkThreshold(value, "stored risk threshold");
  },
};

/** The user's discovery list, or null for the built-in one. */
export const programs = () => stored.programs().programs;
/** Stores the valid part of `list` (null: back to the built-in list); returns what was refused. */
export function setPrograms(list) {
  const checked = list === null ? { programs: null, problems: [] } : checkPrograms(list);
  save(KEYS.programs, checked.programs);
  return checked.problems;
}
export const rules = () => stored.rules().rules;
/** Stores the valid rules of `list`; returns what was refused. */
export function setRules(list) {
  const checked = checkRules(list);
  save(KEYS.rules, checked.rules);
  return checked.problems;
}
export const threshold = () => stored.threshold().threshold;
/** Stores `value` if it is a valid threshold; returns what was refused. */
export function setThreshold(value) {
  const checked = checkThreshold(value);
  if (checked.problems.length === 0) save(KEYS.threshold, value);
  return checked.problems;
}

/** What was refused in this browser's stored settings, in words for the user. */
export function settingsProblems() {
  return [...stored.programs().problems, ...stored.rules().problems, ...stored.threshold().problems];
}

/** A message for each rule naming a field that none of `knownFields` (the report's row fields) is. */
export function unknownFieldRules(ruleList, knownFields) {
  const known = new Set(knownFields);
  if (known.size === 0) return []; // No findings: nothing to tell a typo from.
  return ruleList.filter((rule) => !known.has(rule.field)).map((rule) =>
    `The suppression rule "${rule.field} ${rule.match} ${rule.value}" names the field ${rule.field}, which no finding has; it suppresses nothing.`);
}

/** Checks that imported rules have the shape the page applies, every one of them. */
export function validRules(value) {
  return checkRules(value).problems.length === 0;
}

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
