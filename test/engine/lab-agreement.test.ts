// The engine judged by the kernel: for every committed lab case and every probe, the verdict must
// equal what real packets did in the lab, and for each broken probe a FATAL or CRITICAL finding
// must sit on the NetNode that holds the injected fault, with a check id of the fault's family
// (the rules: lab-judge.ts, shared with the live lab test/lab/lab.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labCases } from '../support/lab-cases';
import { judgeCase } from '../support/lab-judge';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';

const cases = labCases();

test('lab agreement: every probe of every committed lab case agrees with the kernel', { skip: cases.length === 0 && 'no lab cases committed' }, (t) => {
  let agree = 0;
  let total = 0;
  const failures: string[] = [];
  for (const c of cases) {
    const j = judgeCase(c.name, c.snapshotText, c.truth.probes);
    agree += j.agree;
    total += j.total;
    failures.push(...j.failures);
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
