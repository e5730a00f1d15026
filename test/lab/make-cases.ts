// Regenerates the lab's case directories (root only): for every topology, the healthy case and every
// fault of the catalogue, while the case is live: objects read back from the apiserver, one
// `netpath collect` dump per node, the assembled snapshot and truth.json (what the kernel did).
//   npm run build && test/lab/k8s/build.sh && test/lab/k8s/start.sh
//   npx tsx test/lab/make-cases.ts [--out DIR] [--plugins a,b] [--cases name,name] [--curated]
// --curated writes only the set committed under test/fixtures/lab/ (CURATED below), without the
// separate dumps/ (the snapshot carries them).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from './exec';
import { LAB_CP, REPO, type Lab } from './lab';
import { runTopology, type CaseResult } from './runner';
import type { Plugin } from './topology';
import { VARIANTS as PROXY_VARIANTS, type LabTopology } from './scenarios';
import { VARIANTS } from './variants';

/** netns prefix: NETPATH_LAB_PREFIX when several labs share the machine */
const PREFIX = process.env.NETPATH_LAB_PREFIX ?? 'npcase';

export const PLUGINS: Plugin[] = ['flannel-host-gw', 'flannel-vxlan', 'calico-bgp', 'calico-vxlan', 'generic-bridge'];
/** every topology the lab runs: each plugin's standard one, then the variants (kube-proxy in nftables mode) */
export const TOPOLOGIES: LabTopology[] = [...PLUGINS, ...PROXY_VARIANTS];

/** committed under test/fixtures/lab/: every healthy topology and at least one fault of each check family */
export const CURATED = new Set([
  ...PLUGINS.map((p) => `${p}--healthy`),
  'flannel-host-gw--route-deleted', 'flannel-host-gw--ip-forward-off', 'flannel-host-gw--rp-filter-asymmetric',
  'flannel-host-gw--bridge-nf-call-iptables-off', 'flannel-host-gw--veth-detached', 'flannel-host-gw--node-forward-drop',
  'flannel-host-gw--kube-svc-flushed', 'flannel-host-gw--no-ready-endpoints', 'flannel-host-gw--target-port-not-listening',
  'flannel-host-gw--network-policy-deny', 'flannel-host-gw--masquerade-missing', 'flannel-host-gw--policy-route-blackhole',
  'flannel-vxlan--vxlan-fdb-missing', 'calico-bgp--calico-proxy-arp-off', 'generic-bridge--node-forward-reject',
  // the remaining families, so every family of the agreement rules has a committed case
  'flannel-host-gw--route-wrong-via', 'flannel-host-gw--iface-forwarding-off', 'flannel-host-gw--pod-eth0-down',
  'flannel-host-gw--pod-mtu-mismatch', 'flannel-host-gw--bridge-down', 'flannel-host-gw--nothing-listening',
  'generic-bridge--generic-bridge-veth-down', 'flannel-vxlan--vxlan-neigh-missing', 'calico-vxlan--calico-vxlan-route-deleted',
  // kube-proxy in nftables mode: healthy, and each of its faults
  'flannel-host-gw-nftproxy--healthy', 'flannel-host-gw-nftproxy--nft-service-element-missing',
  'flannel-host-gw-nftproxy--nft-dnat-wrong-port', 'flannel-host-gw-nftproxy--nft-native-forward-drop',
  // dual-stack (test/lab/variants.ts): each topology healthy, every IPv6-only fault and the IPv4-only one
  'flannel-host-gw-dual--healthy', 'flannel-vxlan-dual--healthy', 'generic-bridge-dual--healthy',
  'flannel-host-gw-dual--ip6tables-forward-drop', 'flannel-host-gw-dual--ipv6-route-deleted', 'flannel-host-gw-dual--ipv6-forwarding-off',
  'flannel-host-gw-dual--ndp-solicitation-dropped', 'flannel-host-gw-dual--ipv6-dnat-wrong-port', 'flannel-host-gw-dual--ipv4-forward-drop',
  'flannel-vxlan-dual--vxlan6-neigh-missing',
  // NetworkPolicy in dual-stack: the policy agent's iptables and ip6tables rules
  'flannel-host-gw-dual-policy--healthy', 'flannel-host-gw-dual-policy--policy-default-deny-allow-client',
  'flannel-host-gw-dual-policy--policy-ipblock-ipv4-only', 'flannel-host-gw-dual-policy--policy-egress-ipv6-except',
  // KubeSkoop's remaining scenarios
  'flannel-vxlan-kubeskoop--healthy', 'flannel-vxlan-kubeskoop--node-mtu-1400', 'flannel-vxlan-kubeskoop--cni0-down',
]);

export function truthJson(c: CaseResult): object {
  return {
    case: c.name,
    plugin: c.plugin,
    fault: c.fault ? { id: c.fault.id, description: c.fault.description, netNode: c.fault.netNode, check: c.fault.check, targetProbe: c.target } : null,
    probes: c.probes,
  };
}

export async function writeCase(lab: Lab, c: CaseResult, dir: string, keepDumps = true): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const objects = join(dir, 'objects.yaml');
  lab.writeFile(objects, await lab.cluster.readBack(lab.topo));
  const dumps = lab.collect(join(dir, 'dumps'));
  const cli = join(REPO, 'dist', 'cli.js');
  run(process.execPath, [cli, 'snapshot', 'assemble', '--objects', objects,
    ...Object.entries(dumps).flatMap(([n, f]) => ['--dump', `${n}=${f}`]), '-o', join(dir, 'snapshot.netpath.json')], { timeoutMs: 60_000 });
  lab.writeFile(join(dir, 'truth.json'), JSON.stringify(truthJson(c), null, 2) + '\n');
  // the snapshot embeds the dumps verbatim; the committed set drops the copies to halve its size
  if (!keepDumps) rmSync(join(dir, 'dumps'), { recursive: true, force: true });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    out: { type: 'string', default: join(REPO, 'test', 'fixtures', 'lab') },
    plugins: { type: 'string' }, cases: { type: 'string' }, curated: { type: 'boolean', default: false },
  } });
  if (process.getuid?.() !== 0) throw new Error('make-cases needs root (network namespaces)');
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) throw new Error('dist/cli.js missing: run npm run build');
  const kubeconfig = join(LAB_CP, 'kubeconfig');
  if (!existsSync(kubeconfig)) throw new Error(`no ${kubeconfig}: run test/lab/k8s/start.sh`);
  const plugins = values.plugins ? values.plugins.split(',') as LabTopology[] : TOPOLOGIES;
  const only = values.cases ? new Set(values.cases.split(',')) : values.curated ? CURATED : undefined;
  const want = (name: string) => !only || only.has(name);
  let written = 0;
  for (const plugin of plugins) {
    if (only && ![...only].some((n) => n.startsWith(plugin + '--'))) continue;
    const t0 = Date.now();
    await runTopology(plugin, {
      prefix: PREFIX, kubeconfig, log: (s) => console.log(s),
      faults: (f) => want(`${plugin}--${f.id}`),
      onCase: async (lab, c) => { if (want(c.name)) { await writeCase(lab, c, join(values.out!, c.name), !values.curated); written++; } },
    });
    console.log(`${plugin}: done in ${Date.now() - t0} ms`);
  }
  // the variants (dual-stack ones need the control plane started with DUAL_STACK_CP_ENV)
  for (const variant of values.plugins ? [] : VARIANTS) {
    if (only && ![...only].some((n) => n.startsWith(variant.name + '--'))) continue;
    const t0 = Date.now();
    await runTopology(variant.plugin, {
      prefix: PREFIX, kubeconfig, log: (s) => console.log(s), variant,
      faults: (f) => want(`${variant.name}--${f.id}`),
      onCase: async (lab, c) => { if (want(c.name)) { await writeCase(lab, c, join(values.out!, c.name), !values.curated); written++; } },
    });
    console.log(`${variant.name}: done in ${Date.now() - t0} ms`);
  }
  console.log(`${written} case directories written to ${values.out}`);
}

if (process.argv[1]?.endsWith('make-cases.ts')) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
