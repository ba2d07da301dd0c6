/**
 * Case state: what the analyst decided about each finding (a status and a note), kept in
 * this browser's localStorage. A finding is known by its identity, which does not change
 * when the same logs are analysed again: its detection, its reading and the values of its
 * output row (hashed), never its place in the list. What is read back from storage is
 * checked like every other stored setting: the valid entries are kept, the rest dropped.
 */

export const STATUSES = ["new", "investigating", "benign", "malicious"];
const KEY = "sysmon-lens.case-state";
const LIMITS = { entries: 100_000, noteChars: 4000, identityChars: 200 };

/** 53 bits of a string's hash (cyrb53), as hex; two seeds make a 106-bit identity. */
function hash53(text, seed) {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/** A finding's identity: detection id, reading and a hash of its output row's values. */
export function findingIdentity(finding) {
  const row = JSON.stringify(finding?.row ?? null);
  return `${finding?.detection_id}:${finding?.mode}:${hash53(row, 1)}${hash53(row, 2)}`;
}

const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** The stored case state: `{ [identity]: { status, note } }`, only valid entries. */
export function load() {
  let parsed;
  try {
    parsed = JSON.parse(localStorage.getItem(KEY) ?? "{}");
  } catch {
    return {}; // unreadable or unavailable storage: no case state
  }
  if (!isRecord(parsed)) return {};
  const cases = {};
  for (const [identity, entry] of Object.entries(parsed).slice(0, LIMITS.entries)) {
    if (identity.length > LIMITS.identityChars || !isRecord(entry)) continue;
    const status = STATUSES.includes(entry.status) ? entry.status : "new";
    const note = typeof entry.note === "string" ? entry.note.slice(0, LIMITS.noteChars) : "";
    if (status !== "new" || note) cases[identity] = { status, note };
  }
  return cases;
}

function save(cases) {
  try {
    if (Object.keys(cases).length) localStorage.setItem(KEY, JSON.stringify(cases));
    else localStorage.removeItem(KEY);
  } catch {
    // Storage is unavailable: the state lasts for this page only.
  }
}

let current = null;
/** The case state, read once from storage and kept in step with it. */
export const cases = () => (current ??= load());

/** Sets what is known of each finding of `identities` (`change` holds status and/or note). */
export function update(identities, change) {
  const all = { ...cases() };
  for (const identity of identities) {
    const entry = { status: "new", note: "", ...all[identity], ...change };
    entry.note = String(entry.note).slice(0, LIMITS.noteChars);
    if (!STATUSES.includes(entry.status)) entry.status = "new";
    if (entry.status === "new" && !entry.note) delete all[identity];
    else all[identity] = entry;
  }
  current = all;
  save(all);
}

/** Forgets every status and note. */
export function clear() {
  current = {};
  save(current);
}

/** What is known of a finding: its status ("new" when none) and note. */
export function stateOf(caseMap, identity) {
  return caseMap?.[identity] ?? { status: "new", note: "" };
}
