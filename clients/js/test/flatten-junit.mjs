// Rewrites node's JUnit report (one <testsuite> per describe, plus loose <testcase>s) as a single
// <testsuite> holding every test case, whose totals ./run-tests reads from the first line.
// Usage: node test/flatten-junit.mjs <report.xml> [suite-name] [label for the summary line]
import { readFileSync, writeFileSync } from 'node:fs';

const [file, name = 'clients-js', label = 'clients/js'] = process.argv.slice(2);
const xml = readFileSync(file, 'utf8');
// Attribute values may hold an unescaped '>': skip over quoted strings.
const cases = xml.match(/<testcase\b(?:[^>"]|"[^"]*")*?(?:\/>|>[\s\S]*?<\/testcase>)/g) ?? [];
let failures = 0;
let skipped = 0;
let time = 0;
for (const c of cases) {
  if (/<failure\b/.test(c)) failures++;
  else if (/<skipped\b/.test(c)) skipped++;
  time += Number(/\btime="([\d.]+)"/.exec(c)?.[1] ?? 0);
}
const out = [
  '<?xml version="1.0" encoding="utf-8"?>',
  '<testsuites>',
  `<testsuite name="${name}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time.toFixed(3)}">`,
  ...cases.map((c) => '\t' + c),
  '</testsuite>',
  '</testsuites>',
  '',
].join('\n');
writeFileSync(file, out);
console.log(`${label}: ${cases.length - failures - skipped} passed, ${failures} failed, ${skipped} skipped`);
