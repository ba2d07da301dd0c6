// Suppression, the CLI's (`scan --rules`) against the page's (the rules settings.js keeps,
// applied by the wasm build of the core and read by model.js, as the worker does): on every
// case and the demo, for rules drawn at random from the findings' own values (cut,
// re-cased, starred), both hide the same findings by the same rule and total the same
// risk; both accept and refuse the same rules.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { caseInputs, caseNames, cli, coreDetections } from "./support.mjs";
import { Analyzer } from "../www/pkg/sysmon_lens.js";
import { ReportModel } from "../www/model.js";
import * as settings from "../www/settings.js";

let dir;
let inputs;
before(async () => {
  settings.setDetections(await coreDetections()); // as the page's worker gives them when ready
  dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-suppress-"));
  const demo = path.join(dir, "demo.xml");
  writeFileSync(demo, execFileSync(cli, ["demo"]));
  // The cases of bad input are left out: a file that gives nothing makes the exit status 2.
  inputs = [demo, ...caseNames().filter((name) => !/^(bad|fuzz)_/.test(name)).flatMap(caseInputs)];
});

/** The inputs analyzed by the wasm build, as the page's worker does: the report it holds. */
function wasmReport() {
  const analyzer = new Analyzer();
  for (const file of inputs) {
    analyzer.beginFile(file);
    analyzer.feed(readFileSync(file));
    analyzer.endFile();
  }
  return analyzer.finish();
}
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI's JSON report of every input, with `rules` applied when given; its exit status. */
function scan(rules) {
  const args = ["scan", "--format", "json"];
  if (rules) {
    const file = path.join(dir, "rules.json");
    writeFileSync(file, JSON.stringify(rules));
    args.push("--rules", file);
  }
  try {
    return { report: JSON.parse(execFileSync(cli, [...args, ...inputs], { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 })), status: 0 };
  } catch (err) {
    return { report: err.status === 2 && !err.stdout.length ? null : JSON.parse(err.stdout), status: err.status, stderr: String(err.stderr) };
  }
}

/** A seeded generator (mulberry32), so that a failure can be run again. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A rule on a value some finding has: whole or cut, re-cased, with stars for a wildcard. */
function ruleFrom(findings, next) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  const finding = pick(findings);
  const field = pick(Object.keys(finding.row));
  const whole = String(finding.row[field]);
  const start = Math.floor(next() * whole.length);
  let value = next() < 0.4 ? whole : whole.slice(start, start + 1 + Math.floor(next() * 12));
  value = [...value].map((c) => (next() < 0.3 ? c.toUpperCase() : c)).join("");
  const match = pick(["equals", "contains", "wildcard"]);
  if (match === "wildcard") {
    const at = () => Math.floor(next() * (value.length + 1));
    for (let i = Math.floor(next() * 3); i > 0; i -= 1) { const k = at(); value = `${value.slice(0, k)}*${value.slice(k)}`; }
  }
  const detection_id = next() < 0.3 ? "*" : pick([finding.detection_id, ...findings.map((f) => f.detection_id)]);
  return { detection_id, field, match, value: value || "*" };
}

test("the CLI and the page suppress the same findings by the same rule, and total the same risk", () => {
  const { report: plain, status: plainStatus, stderr } = scan(null);
  assert.equal(plainStatus, 1, stderr);
  assert.ok(plain.findings.length >= 20, `${plain.findings.length} findings`);
  const held = wasmReport();
  const model = new ReportModel(plain, { suppress: (rules) => JSON.parse(held.suppression(JSON.stringify(rules))) });
  const next = random(20261129);
  let compared = 0;
  let suppressedSeen = 0;
  for (let round = 0; round < 60; round += 1) {
    const drawn = Array.from({ length: 1 + Math.floor(next() * 3) }, () => ruleFrom(plain.findings, next));
    const { rules } = settings.checkRules(drawn);
    if (rules.length === 0) continue;
    const { report, status, stderr } = scan(rules);
    assert.ok(report, `the CLI refused rules the page keeps: ${JSON.stringify(rules)}: ${stderr}`);
    const ruleOf = model.ruleOf({ rules });
    const page = ruleOf.map((rule) => (rule ? rules.indexOf(rule) : undefined));
    assert.deepEqual(report.findings.map((f) => f.suppressed_by), page, JSON.stringify(rules));
    const suppressed = page.filter((i) => i !== undefined).length;
    assert.equal(report.suppression.suppressed, suppressed);
    assert.equal(status, suppressed === plain.findings.length ? 0 : 1, "exit 1 while any finding is left");
    const pageRisk = model.riskTotals(ruleOf).map((r) => `${r.type} ${r.object} ${r.score} ${r.contributing}`);
    assert.deepEqual(report.risk_totals.map((r) => `${r.type} ${r.object} ${r.score} ${r.findings}`), pageRisk, JSON.stringify(rules));
    compared += 1;
    suppressedSeen += suppressed;
  }
  console.log(`# ${compared} rule sets on ${plain.findings.length} findings: ${suppressedSeen} suppressions, the same in both`);
  assert.ok(compared >= 40 && suppressedSeen > 0);
});

test("the CLI and the page accept and refuse the same rules", async () => {
  const plain = scan(null).report;
  assert.deepEqual(await coreDetections(), plain.detections.map(({ id, name, output_fields }) => ({ id, name, output_fields })),
    "the page's detections are the report's");
  const base = { detection_id: "*", field: "process_name", match: "equals", value: "cmd.exe" };
  const candidates = [
    base,
    { ...base, field: "host" },
    { ...base, detection_id: "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99", field: "original_file_name" },
    { ...base, detection_id: "no-such-detection" },
    { ...base, field: "process_id", value: "12a" },
    { ...base, field: "process_id", match: "wildcard", value: "12*" },
    { ...base, match: "regex" },
    { ...base, value: "" },
    { ...base, value: "x".repeat(2049) },
    { ...base, field: 5 },
    "a rule",
  ];
  for (const rule of candidates) {
    const pageRefuses = settings.checkRules([rule]).problems.length > 0;
    const { status, stderr } = scan([rule]);
    assert.equal(status === 2, pageRefuses, `${JSON.stringify(rule).slice(0, 80)}: ${stderr ?? ""}`);
    if (pageRefuses) assert.match(stderr, /rules\.json: suppression rules refused: rule #1: /);
  }
});
