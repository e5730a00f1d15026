// Lab cases of a host outside the cluster on the nodes' uplink segment reaching pods and NodePorts
// (issue 13: an outside source enters a node through its uplink, for every plugin). The standard
// two-node topology with `outsideHost`, the outside probes, no fault; written like make-cases'
// case directories (objects, snapshot, truth.json) as `<plugin>--outside-host`. Root only:
//   npm run build && test/lab/k8s/start.sh
//   npx tsx test/lab/outside.ts [--out DIR] [--plugins flannel-host-gw,calico-bgp]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab, LAB_CP, REPO, type ProbeSpec } from './lab';
import { LabCluster } from './cluster';
import { outsideProbes, standardTopology } from './scenarios';
import { PLUGINS, writeCase } from './make-cases';
import type { CaseResult, ProbeTruth } from './runner';
import type { Plugin } from './topology';

/** The committed outside-host cases: every plugin of the lab. */
export const OUTSIDE_PLUGINS: Plugin[] = PLUGINS;

export async function runOutside(plugin: Plugin, prefix: string, kubeconfig: string, onCase: (lab: Lab, c: CaseResult) => Promise<void>, log: (s: string) => void = () => {}): Promise<CaseResult> {
  const lab = new Lab({ ...standardTopology(plugin), outsideHost: true }, prefix, LabCluster.fromFile(kubeconfig), log);
  try {
    await lab.up();
    const probes: ProbeSpec[] = outsideProbes();
    const results = await Promise.all(probes.map((p) => lab.probe(p)));
    const c: CaseResult = {
      name: `${plugin}--outside-host`,
      plugin,
      probes: probes.map((p, i): ProbeTruth => ({
        probe: p.id, path: p.path, src: p.src, dst: p.dst, address: p.address, port: p.port, protocol: p.protocol,
        outcome: results[i].outcome, ...(results[i].errno ? { errno: results[i].errno } : {}), ...(results[i].reply ? { reply: results[i].reply } : {}),
      })),
    };
    await onCase(lab, c);
    return c;
  } finally {
    await lab.down();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(REPO, 'test', 'fixtures', 'lab') }, plugins: { type: 'string' } } });
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) throw new Error('dist/cli.js missing: run npm run build');
  const kubeconfig = join(LAB_CP, 'kubeconfig');
  if (!existsSync(kubeconfig)) throw new Error(`no ${kubeconfig}: run test/lab/k8s/start.sh`);
  for (const plugin of values.plugins ? (values.plugins.split(',') as Plugin[]) : OUTSIDE_PLUGINS) {
    const c = await runOutside(plugin, 'npout', kubeconfig, (lab, c) => writeCase(lab, c, join(values.out!, c.name), false), (s) => console.log(s));
    console.log(`${c.name}: ${c.probes.map((p) => `${p.probe} ${p.outcome}`).join(', ')}`);
  }
}

if (process.argv[1]?.endsWith('outside.ts')) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
