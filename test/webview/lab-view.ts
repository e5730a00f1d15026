// A lab case diagnosed and laid out as the host would send it to the webview.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DiagnosisRequest } from '../../src/engine/model/result';
import { Network } from '../../src/engine/network';
import { layoutResult, type LayoutOptions } from '../../src/engine/report/layout';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { toWireResult } from '../../src/shared/severity';
import type { PathView } from '../../src/shared/webview-protocol';

export const labDir = join(__dirname, '..', 'fixtures', 'lab');

export async function labView(caseName: string, request: Omit<DiagnosisRequest, 'protocol'> & { protocol?: DiagnosisRequest['protocol'] }, opts?: LayoutOptions): Promise<PathView> {
  const snapshot = loadSnapshot(readFileSync(join(labDir, caseName, 'snapshot.netpath.json'), 'utf8'));
  const result = toWireResult(new Network(snapshot).diagnose({ protocol: 'tcp', ...request }));
  // Through JSON, as postMessage would carry it (no class instances, no undefined).
  return JSON.parse(JSON.stringify({ result, graph: await layoutResult(result, opts) }));
}
