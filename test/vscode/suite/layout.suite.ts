/// <reference types="mocha" />
// Acceptance (issue 12, "layout in the worker"): the extension host stays responsive while the
// link-path panel shows a service with 1,000 backends. A generated snapshot (bench/generate.ts:
// 1,000 ready backends on four nodes, each with its full network stack) is diagnosed through the
// server; then Show Link Path opens the panel with the server's folded graph, and a group is
// unfolded (200 backends, then all 250 of that node) — the server lays out, the extension host only
// forwards. Throughout, a test-only command is executed every 10 ms and each answer's latency is
// measured from when it was due (so a blocked event loop counts in full), with the CPU time the
// extension host used meanwhile: the extension host must never be busy for 100 ms, and the latency
// itself must stay under 100 ms whenever the machine has a CPU to spare (on an oversubscribed one
// the operating system delays every process; the test then prints the latency and the load). A command round trip through the workbench (`setContext`, every 100 ms in a loop of
// its own) is measured and printed too.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { generateSnapshot } from '../../../bench/generate';
import type { NetpathApi } from '../../../src/extension/main';
import type { Run } from '../../../src/extension/runs';
import { available as canScreenshot, screenshot } from './screenshot';

const thresholdMs = 100;
const backends = 1000;

interface Probe {
  /** Names what happens from now on, so the report says where the worst latency was. */
  phase(name: string): void;
  stop(): Promise<{ count: number; maxMs: number; maxBusyMs: number; maxLoad: number; maxWorkbenchMs: number; p50Ms: number; byPhase: Record<string, number>; worst: string }>;
}

/** Executes the ping every 10 ms until stopped; latency = answer time − due time. */
function probe(ping: string): Probe {
  const latencies: number[] = [];
  const byPhase: Record<string, number> = {};
  let phase = 'start';
  // For the worst answer: how much CPU the extension host itself used while it was late, and the
  // machine's load — busy (our work) or starved (other processes), told apart.
  let worst = { latency: 0, cpuMs: 0, load: 0 };
  /** The largest part of a late answer the extension host spent on the CPU itself (all its threads). */
  let maxBusyMs = 0;
  let maxLoad = 0;
  let maxWorkbenchMs = 0;
  let running = true;
  const loop = (async () => {
    let due = performance.now();
    let cpu = process.cpuUsage();
    while (running) {
      await vscode.commands.executeCommand(ping);
      const latency = performance.now() - due;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      maxBusyMs = Math.max(maxBusyMs, Math.min(latency, cpuMs));
      if (latency > worst.latency) worst = { latency, cpuMs, load: loadavg()[0] };
      maxLoad = Math.max(maxLoad, loadavg()[0]);
      latencies.push(latency);
      byPhase[phase] = Math.max(byPhase[phase] ?? 0, Math.round(latency * 10) / 10);
      due = performance.now() + 10;
      cpu = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  // Alongside, never holding the pings up: a round trip through the workbench (the browser page,
  // which also runs the webview), reported, not asserted — it is not the extension host.
  const workbench = (async () => {
    for (let n = 0; running; n++) {
      const t = performance.now();
      await vscode.commands.executeCommand('setContext', 'netpath.test.ping', n);
      maxWorkbenchMs = Math.max(maxWorkbenchMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    phase(name: string) {
      phase = name;
    },
    async stop() {
      running = false;
      await Promise.all([loop, workbench]);
      const sorted = [...latencies].sort((a, b) => a - b);
      return { count: latencies.length, maxMs: sorted.at(-1) ?? 0, maxWorkbenchMs, p50Ms: sorted[Math.floor(sorted.length / 2)] ?? 0, byPhase, maxBusyMs, maxLoad,
        worst: `${worst.latency.toFixed(1)} ms late, extension host CPU ${worst.cpuMs.toFixed(1)} ms meanwhile, load average ${worst.load.toFixed(1)}` };
    },
  };
}

suite('Link path of a 1,000-backend service', () => {
  let api: NetpathApi;
  let dir: string;
  let ping: vscode.Disposable;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<NetpathApi>('netpath.netpath')!.activate();
    ping = vscode.commands.registerCommand('netpath.test.ping', () => performance.now());
    dir = mkdtempSync(join(tmpdir(), 'netpath-wide-'));
  });
  suiteTeardown(async () => {
    ping?.dispose();
    rmSync(dir, { recursive: true, force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test(`the extension host answers within ${thresholdMs} ms while the panel shows and unfolds ${backends} backends`, async function () {
    this.timeout(240_000);
    const g = generateSnapshot({ nodes: 10, pods: 2 * backends + 1, services: 1, endpoints: backends, seed: 1 });
    const file = join(dir, 'wide.netpath.json');
    writeFileSync(file, JSON.stringify(g.snapshot));

    // The diagnosis itself (server side); its result arriving is measured and printed, not asserted.
    const arrival = probe('netpath.test.ping');
    const t0 = performance.now();
    const run = await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: file, ...g.probes.podToService });
    const diagnoseMs = performance.now() - t0;
    const arrived = await arrival.stop();
    assert.ok(run, 'the diagnosis ran');
    assert.equal(run.result.nodes.filter((n) => n.id.startsWith('default/bench-web-')).length, backends);
    // The result came with the server's folded graph: each node's 250 backends folded beyond 8.
    const groups = run.graph.nodes.filter((n) => n.group);
    assert.deepEqual(groups.map((n) => [n.id, n.group!.shown, n.group!.total]), g.pathNodes.slice(1).map((node) => [`group:${node}`, 8, 250]));

    const measured = probe('netpath.test.ping');
    const t1 = performance.now();
    measured.phase('show');
    assert.equal(await vscode.commands.executeCommand('netpath.showLinkPath', run.runId), run.runId);
    await api.linkPath.posted();
    measured.phase('unfold 200');
    assert.equal(api.linkPath.view()?.graph, run.graph, 'the panel shows the graph of the diagnose result as it came');
    const group = groups[0].id;
    await api.linkPath.expandGroup(group);
    const unfolded = api.linkPath.view()!.graph;
    const t2 = performance.now();
    measured.phase('unfold 250');
    await api.linkPath.expandGroup(group, 250);
    measured.phase('end');
    const all = api.linkPath.view()!.graph;
    const t3 = performance.now();
    const m = await measured.stop();

    assert.equal(unfolded.nodes.find((n) => n.id === group)?.group?.shown, 200, 'unfolded: 200 of 250 shown');
    assert.deepEqual(unfolded.expanded, [group]);
    assert.equal(all.nodes.some((n) => n.id === group), false, 'all 250 shown: the group is gone');
    console.log(
      `netpath layout, ${backends} backends: diagnose ${diagnoseMs.toFixed(0)} ms (result arrival: max latency ${arrived.maxMs.toFixed(1)} ms over ${arrived.count} pings); ` +
      `show + unfold to ${unfolded.nodes.length} nodes ${(t2 - t1).toFixed(0)} ms, to ${all.nodes.length} nodes ${(t3 - t2).toFixed(0)} ms; ` +
      `extension host: ${m.count} pings, max busy ${m.maxBusyMs.toFixed(1)} ms, max latency ${m.maxMs.toFixed(1)} ms (by phase ${JSON.stringify(m.byPhase)}), median ${m.p50Ms.toFixed(1)} ms; worst ping: ${m.worst}; workbench round trip max ${m.maxWorkbenchMs.toFixed(1)} ms`,
    );
    assert.ok(m.count >= 20, `only ${m.count} pings during the layout`);
    // Never busy itself for the threshold: what moving the layout out of the extension host buys
    // (the elkjs layout there kept it busy for 18 s on 500 nodes).
    assert.ok(m.maxBusyMs < thresholdMs, `the extension host was busy ${m.maxBusyMs.toFixed(1)} ms before answering (limit ${thresholdMs} ms)`);
    // The answer time itself, whenever the machine has a CPU to spare: on an oversubscribed one
    // the operating system delays every process, whatever it does (printed above, with its load).
    const cores = cpus().length;
    if (m.maxLoad <= cores) assert.ok(m.maxMs < thresholdMs, `the extension host answered after ${m.maxMs.toFixed(1)} ms (limit ${thresholdMs} ms)`);
    else console.log(`netpath layout: answer time not asserted: load average up to ${m.maxLoad.toFixed(1)} on ${cores} CPUs; the extension host's own busy time was at most ${m.maxBusyMs.toFixed(1)} ms`);

    if (canScreenshot()) {
      await api.linkPath.expandGroup(groups[1].id);
      const shot = await screenshot({ name: 'vscode-linkpath-wide', countInWebviews: ['svg.graph [data-node-id]', '.caps .cap'] }, 30_000);
      console.log(`wide link path screenshot ${shot.file}: ${JSON.stringify(shot.webview)}`);
      assert.ok(shot.webview!['svg.graph [data-node-id]'] > 200, 'the panel draws the unfolded backends');
      assert.ok(shot.webview!['.caps .cap'] >= 3, 'the panel shows the capped groups');
    }
  });

  test(`the extension host answers within ${thresholdMs} ms while a 10 MB invalid snapshot is validated`, async function () {
    this.timeout(240_000);
    // The broken sample with ~10 MB of pods that break the schema in many places: the server reads,
    // parses and validates it in its worker; the extension host only waits for the answer.
    const s = JSON.parse(readFileSync(join(vscode.extensions.getExtension('netpath.netpath')!.extensionPath, 'samples', 'broken.netpath.json'), 'utf8'));
    for (let i = 0; i < 30_000; i++) {
      s.objects.pods.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: i, namespace: ['x'] }, spec: { nodeName: 7, containers: 'none', padding: 'p'.repeat(200) }, status: { podIP: 'not-an-ip' } });
    }
    const file = join(dir, 'invalid.netpath.json');
    writeFileSync(file, JSON.stringify(s));
    const measured = probe('netpath.test.ping');
    const t0 = performance.now();
    const run = await vscode.commands.executeCommand<Run | undefined>('netpath.diagnose', { snapshot: file, src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
    const ms = performance.now() - t0;
    const m = await measured.stop();
    assert.equal(run, undefined, 'an invalid snapshot gives no run');
    console.log(`netpath invalid snapshot: rejected after ${ms.toFixed(0)} ms; extension host: ${m.count} pings, max busy ${m.maxBusyMs.toFixed(1)} ms, max latency ${m.maxMs.toFixed(1)} ms, median ${m.p50Ms.toFixed(1)} ms; worst ping: ${m.worst}`);
    assert.ok(m.count >= 20, `only ${m.count} pings during the validation`);
    assert.ok(m.maxBusyMs < thresholdMs, `the extension host was busy ${m.maxBusyMs.toFixed(1)} ms before answering (limit ${thresholdMs} ms)`);
    const cores = cpus().length;
    if (m.maxLoad <= cores) assert.ok(m.maxMs < thresholdMs, `the extension host answered after ${m.maxMs.toFixed(1)} ms (limit ${thresholdMs} ms)`);
    else console.log(`netpath invalid snapshot: answer time not asserted: load average up to ${m.maxLoad.toFixed(1)} on ${cores} CPUs`);
  });
});
