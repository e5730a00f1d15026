// Time to answer through the language server, as the extension sees it: a fresh dist/server.js
// (over node IPC, as the extension starts it), `initialize`, then `netpath/diagnose` of a snapshot
// file it has never read — request → result is what the user waits for after pressing Diagnose —
// and the same request again (warm). Peak RSS is the server process's (its worker thread included).
// Prints one line `RESULT {json}`. Usage: tsx bench/server-probe.ts SNAPSHOT META_JSON PROBE [--cpu-prof DIR]
// (`--cpu-prof DIR` writes the server's V8 CPU profiles, one per thread, to DIR.)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DiagnoseRequest } from '../src/shared/protocol';
import type { DiagnosisRequest } from '../src/engine/model/result';
import { startServer } from '../test/server/client';

const ms = (a: number) => Math.round((performance.now() - a) * 10) / 10;

/** CPU time (user + system) a process has used so far, in ms: on a shared machine, what wall time hides. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Peak resident set of a process (VmHWM), in MB. */
function peakRssMB(pid: number): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : undefined;
}

async function main(): Promise<void> {
  const [file, metaText, probeName, ...rest] = process.argv.slice(2);
  const profDir = rest[0] === '--cpu-prof' ? rest[1] : undefined;
  const probe = (JSON.parse(metaText) as { probes: Record<string, DiagnosisRequest> }).probes[probeName];
  const t0 = performance.now();
  const s = await startServer(profDir ? { execArgv: ['--cpu-prof', `--cpu-prof-dir=${resolve(profDir)}`] } : {});
  try {
    await s.initialize({ capabilities: {} });
    const startMs = ms(t0);
    const params = { source: { kind: 'snapshot' as const, path: resolve(file) }, request: probe };
    const c0 = cpuMs(s.child.pid!);
    let t = performance.now();
    const r = await s.connection.sendRequest(DiagnoseRequest, { ...params, runId: 'bench-cold' });
    const coldMs = ms(t);
    const coldCpuMs = cpuMs(s.child.pid!) - c0;
    const rssMB = peakRssMB(s.child.pid!);
    t = performance.now();
    await s.connection.sendRequest(DiagnoseRequest, { ...params, runId: 'bench-warm' });
    const warmMs = ms(t);
    const keys = Object.keys(r).sort();
    console.log(`RESULT ${JSON.stringify({ startMs, coldMs, coldCpuMs, warmMs, verdict: r.result.verdict, rssMB, resultKeys: keys, resultBytes: JSON.stringify(r).length })}`);
  } finally {
    await s.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
