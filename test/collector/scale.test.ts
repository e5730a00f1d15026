// A node with 110 pod network namespaces (the kubelet's default max pods), each a veth on one
// bridge: the collector must dump them all, and the time is printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCollector } from '../../src/collector/run';
import { mapPodsToNetns } from '../../src/engine/snapshot/pod-netns';
import { NetnsLab, ipBatch, netnsInode } from './netns';
import { collectorTools, kernelTestSkip } from '../support/machine';

const PODS = 110;
// Every netns must dump without an error: every collector tool is needed, not only nsenter.
const skip = kernelTestSkip(collectorTools()) ?? false;

test(`collector dumps ${PODS} pod netns on one node`, { skip, timeout: 300_000 }, async (t) => {
  const lab = new NetnsLab('npcol-s-');
  try {
    const t0 = Date.now();
    const pods = Array.from({ length: PODS }, (_, i) => `p${i}`);
    lab.add('h', ...pods);
    const h = lab.name('h');
    const ip = (i: number) => `10.244.${Math.floor(i / 200)}.${(i % 200) + 2}`;
    ipBatch([`netns exec ${h} ip link add cni0 type bridge`, `netns exec ${h} ip addr add 10.244.0.1/16 dev cni0`, `netns exec ${h} ip link set cni0 up`]);
    ipBatch(pods.map((p, i) => `link add vh${i} netns ${h} type veth peer name eth0 netns ${lab.name(p)}`));
    ipBatch(pods.flatMap((p, i) => [
      `netns exec ${lab.name(p)} ip addr add ${ip(i)}/16 dev eth0`,
      `netns exec ${lab.name(p)} ip link set eth0 up`,
      `netns exec ${h} ip link set vh${i} master cni0 up`,
    ]));
    const hostPid = await lab.sleeper('h');
    const pids: number[] = [];
    for (const p of pods) pids.push(await lab.sleeper(p));
    t.diagnostic(`built ${PODS} pod netns in ${Date.now() - t0} ms`);

    for (const jobs of [1, 2]) {
      const t1 = Date.now();
      const dump = await runCollector({ hostPid, pids, jobs });
      const ms = Date.now() - t1;
      t.diagnostic(`dump of ${PODS} pod netns + node (--jobs ${jobs}): ${ms} ms wall, collector ${dump.collector.durationMs} ms, ${(JSON.stringify(dump).length / 1e6).toFixed(1)} MB JSON, ${dump.collector.errors.length} errors`);
      assert.equal(dump.netns.length, PODS);
      assert.deepEqual(dump.collector.errors, []);
      assert.deepEqual(new Set(dump.netns.map((n) => n.id)), new Set(pids.map(netnsInode)));
      for (const ns of dump.netns) assert.ok(ns.links && ns.addresses && ns.routes && ns.sysctls && ns.iptables, `netns ${ns.id} complete`);
      const m = mapPodsToNetns(
        pods.map((p, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p, namespace: 'default' }, spec: { nodeName: 'n' }, status: { podIP: ip(i) } })),
        { n: dump },
      );
      assert.equal(m.pods.length, PODS, 'every pod found its netns by IP');
      assert.deepEqual(m.netnsWithoutPod, []);
    }
  } finally {
    lab.cleanup();
  }
});
