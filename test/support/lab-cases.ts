// Reads the committed lab cases (test/fixtures/lab/*): the snapshot and what the kernel did
// for each probe (truth.json), for the agreement test and for the demo.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Probe {
  probe: string;
  path: string;
  src: string;
  dst: string;
  address: string;
  port: number;
  protocol: string;
  size?: number;
  /** the address family netpath is asked for (dual-stack cases) */
  family?: 4 | 6;
  outcome: 'reachable' | 'refused' | 'timeout' | 'unreachable' | string;
  fault?: string;
  faultNode?: string;
  check?: string;
}

export interface LabCase {
  name: string;
  dir: string;
  snapshotText: string;
  truth: { case: string; plugin: string; fault: null | { id: string; description: string; netNode: string; check: string; targetProbe: string }; probes: Probe[] };
}

/** The committed cases; NETPATH_LAB_CASES points elsewhere (e.g. every case `make-cases.ts --out` wrote). */
export const labDir = process.env.NETPATH_LAB_CASES ?? join(__dirname, '..', 'fixtures', 'lab');

export function labCases(): LabCase[] {
  if (!existsSync(labDir)) return [];
  return readdirSync(labDir)
    .filter((d) => existsSync(join(labDir, d, 'truth.json')))
    .sort()
    .map((name) => ({
      name,
      dir: join(labDir, name),
      snapshotText: readFileSync(join(labDir, name, 'snapshot.netpath.json'), 'utf8'),
      truth: JSON.parse(readFileSync(join(labDir, name, 'truth.json'), 'utf8')),
    }));
}
