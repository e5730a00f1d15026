// netpath's side of the parse anchor: parseIptablesSave of an iptables-save file, every rule, in a
// fresh process (the same file iptables-legacy-restore --test reads; bench/run.ts alternates the two
// so that both are timed under the same load). Best of 3 parses (wall and CPU).
// Prints one line `RESULT {json}`. Usage: tsx bench/parse-anchor.ts FILE
import { readFileSync } from 'node:fs';
import { parseIptablesSave } from '../src/engine/netstack/iptables/parse';

const text = readFileSync(process.argv[2], 'utf8');
let wallMs = Infinity;
let cpuMs = Infinity;
let rules = 0;
for (let k = 0; k < 3; k++) {
  const c0 = process.cpuUsage();
  const t = performance.now();
  const rs = parseIptablesSave(text, { family: 4 });
  wallMs = Math.min(wallMs, performance.now() - t);
  const c = process.cpuUsage(c0);
  cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
  rules = rs.tables.reduce((n, tb) => n + tb.chains.reduce((m, ch) => m + ch.rules.length, 0), 0);
}
console.log(`RESULT ${JSON.stringify({ wallMs, cpuMs, rules })}`);
