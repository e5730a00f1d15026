// The engine judged by the kernel: for every committed lab case and every probe, the verdict must
// equal what real packets did in the lab, and for each broken probe a FATAL or CRITICAL finding
// must sit on the NetNode that holds the injected fault, with a check id of the fault's family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labCases, type LabCase, type Probe } from './lab-cases';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { SuspicionLevel, levelName } from '../../src/engine/model/suspicion';
import type { DiagnosisResult } from '../../src/engine/model/result';

/**
 * The lab names each fault by a family of its own; these are the engine's check ids that name the
 * same fault. Where the kernel enforces a cluster-level fault on a node (a NetworkPolicy becomes
 * the policy agent's DROP rule; a service without endpoints becomes kube-proxy's REJECT), the
 * node's finding that shows the enforcement is accepted too: see ENFORCED below.
 */
const FAMILY: Record<string, string[]> = {
  'bridge.down': ['bridge.down', 'interface.down'],
  'bridge.port-missing': ['bridge.port-missing', 'bridge.no-port', 'bridge.port-down'],
  'interface.down': ['interface.down'],
  'interface.mtu': ['mtu.mismatch'],
  'iptables.drop': ['iptables.drop'],
  'iptables.reject': ['iptables.reject'],
  'iptables.masquerade-missing': ['nat.no-masquerade'],
  'kube-proxy.chain-missing': ['kube-proxy.chain-missing', 'kube-proxy.missing-endpoint'],
  'neigh.missing': ['vxlan.no-neighbour', 'neighbour.failed', 'arp.no-answer'],
  'policy.deny': ['policy.ingress-deny', 'policy.egress-deny'],
  'route.blackhole': ['route.blackhole'],
  // A calico node that loses a pod's /32 falls into the block's blackhole route.
  'route.missing': ['route.missing', 'route.no-route', 'route.leaves-cluster', 'route.invalid', 'route.unreachable', 'route.blackhole'],
  'route.wrong-gateway': ['route.invalid', 'route.leaves-cluster', 'arp.no-answer'],
  'service.no-endpoints': ['service.no-endpoints', 'service.no-ready-endpoints'],
  'service.target-port': ['socket.not-listening'],
  'socket.not-listening': ['socket.not-listening'],
  'sysctl.bridge-nf-call-iptables': ['bridge.nf-call-iptables-off'],
  'sysctl.forwarding': ['sysctl.forwarding-disabled'],
  'sysctl.ip_forward': ['sysctl.forwarding-disabled'],
  'sysctl.proxy_arp': ['arp.no-answer'],
  'sysctl.rp_filter': ['sysctl.rp-filter', 'route.invalid'],
  'veth.down': ['interface.down', 'bridge.port-down'],
  'vxlan.fdb-missing': ['vxlan.no-fdb'],
};

/** Cluster-level faults that the datapath enforces with rules on a node: that node's drop counts. */
const ENFORCED: Record<string, string[]> = {
  'policy.deny': ['iptables.drop'],
  'service.no-endpoints': ['iptables.reject'],
};

interface Finding {
  node: string;
  check: string;
  level: SuspicionLevel;
  message: string;
}

function findings(r: DiagnosisResult): Finding[] {
  return [
    ...r.clusterSuspicions.map((s) => ({ node: 'cluster', check: s.check, level: s.level, message: s.message })),
    ...r.nodes.flatMap((n) => n.suspicions.map((s) => ({ node: n.id, check: s.check, level: s.level, message: s.message }))),
  ];
}

function judge(c: LabCase, p: Probe): { ok: boolean; why: string } {
  const r = new Network(loadSnapshot(c.snapshotText)).diagnose({ src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase(), ...(p.size ? { size: p.size } : {}) });
  const want = p.outcome === 'reachable' ? 'reachable' : 'unreachable';
  const serious = findings(r).filter((f) => f.level >= SuspicionLevel.CRITICAL);
  const shown = findings(r).map((f) => `${f.node} [${levelName(f.level)}] ${f.check}: ${f.message}`).join('\n    ');
  if (r.verdict !== want) return { ok: false, why: `kernel: ${p.outcome}, netpath: ${r.verdict}\n    ${shown}` };
  if (!p.fault) return { ok: true, why: '' };
  const family = FAMILY[p.check ?? ''];
  if (!family) return { ok: false, why: `no engine check family known for lab check ${p.check}` };
  const onNode = serious.some((f) => f.node === p.faultNode && family.includes(f.check));
  const enforced = (ENFORCED[p.check ?? ''] ?? []).length > 0 && serious.some((f) => ENFORCED[p.check!].includes(f.check));
  if (onNode || enforced) return { ok: true, why: '' };
  return { ok: false, why: `fault ${p.fault} (${p.check}) on ${p.faultNode}: no FATAL/CRITICAL ${family.join('|')} there\n    ${shown}` };
}

const cases = labCases();

test('lab agreement: every probe of every committed lab case agrees with the kernel', { skip: cases.length === 0 && 'no lab cases committed' }, (t) => {
  let agree = 0;
  let total = 0;
  const failures: string[] = [];
  for (const c of cases) {
    for (const p of c.truth.probes) {
      total++;
      const j = judge(c, p);
      if (j.ok) agree++;
      else failures.push(`${c.name} / ${p.probe} (${p.src} -> ${p.dst}:${p.port}/${p.protocol}): ${j.why}`);
    }
  }
  const faulted = cases.filter((c) => c.truth.fault).length;
  t.diagnostic(`lab agreement: ${agree}/${total} probes agree over ${cases.length} cases (${faulted} with an injected fault)`);
  console.log(`lab agreement: ${agree}/${total} probes agree over ${cases.length} cases (${faulted} with an injected fault)`);
  assert.equal(failures.length, 0, `disagreements:\n${failures.join('\n')}`);
});

test('determinism: the same snapshot and request give byte-identical JSON', async () => {
  const { formatJson } = await import('../../src/engine/report/json');
  const c = cases.find((x) => x.truth.fault) ?? cases[0];
  if (!c) return;
  for (const p of c.truth.probes.slice(0, 4)) {
    const req = { src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase() };
    const a = formatJson(new Network(loadSnapshot(c.snapshotText)).diagnose(req));
    const b = formatJson(new Network(loadSnapshot(c.snapshotText)).diagnose(req));
    assert.equal(a, b);
  }
});

test('one Network serves several diagnoses without one run leaking into the next', async () => {
  const { formatJson } = await import('../../src/engine/report/json');
  const c = cases.find((x) => x.name === 'flannel-host-gw--healthy');
  if (!c) return;
  const shared = new Network(loadSnapshot(c.snapshotText));
  for (const p of c.truth.probes) {
    const req = { src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase() };
    assert.equal(formatJson(shared.diagnose(req)), formatJson(new Network(loadSnapshot(c.snapshotText)).diagnose(req)), `${p.probe}`);
  }
});
