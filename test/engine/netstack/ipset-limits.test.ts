// Expansion bombs in `ipset save`: a set's maxelem (the kernel's default 65536) and the element
// budget of one dump are enforced while ranges and CIDRs are expanded, with an error naming the set
// and the limit; list:set keeps each member once, as the kernel does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ELEMENT_BUDGET, DEFAULT_MAXELEM, parseIpsetSave } from '../../../src/engine/netstack/ipset';
import { ParseError } from '../../../src/engine/netstack/parse-error';
import { readFileSync } from 'node:fs';
import { Network } from '../../../src/engine/network';
import type { NetpathSnapshot } from '../../../src/engine/snapshot/types';

const parseError = (line: number, re: RegExp) => (e: unknown) => e instanceof ParseError && e.line === line && re.test(e.reason);

test('a CIDR past the kernel default maxelem is refused at once, naming set and limit', () => {
  // Was: 1,048,576 entries built (6 s, 865 MB) before anything looked at them.
  assert.throws(() => parseIpsetSave('create BIG hash:ip family inet hashsize 1024\nadd BIG 0.0.0.0/12'), parseError(2, /BIG \(hash:ip\): "0\.0\.0\.0\/12" is too large: it takes the set past its maxelem 65536 \(it holds 0/));
  assert.equal(DEFAULT_MAXELEM, 65536);
  // Exactly maxelem fits; one more element does not.
  const full = parseIpsetSave('create s hash:ip maxelem 256\nadd s 10.0.0.0/24');
  assert.equal(full.sets.get('s')!.entries.length, 256);
  assert.throws(() => parseIpsetSave('create s hash:ip maxelem 256\nadd s 10.0.0.0/24\nadd s 10.0.1.1'), parseError(3, /"10\.0\.1\.1" is too large: it takes the set past its maxelem 256 \(it holds 256/));
  // Multi-dimension elements count every combination (4 addresses × 8 ports = 32 > 16).
  assert.throws(() => parseIpsetSave('create s hash:ip,port maxelem 16\nadd s 10.0.0.0/30,tcp:1-8'), parseError(2, /maxelem 16/));
  // The set's own maxelem is raised in its create line, as on the kernel.
  assert.equal(parseIpsetSave('create BIG hash:ip maxelem 1048576\nadd BIG 10.0.0.0/14', { ipsetElementBudget: 1 << 20 }).sets.get('BIG')!.entries.length, 1 << 18);
});

test('twenty /12 lines end with the first one, not with the process', () => {
  const lines = ['create BIG hash:ip family inet hashsize 1024 maxelem 65536'];
  for (let k = 0; k < 20; k++) lines.push(`add BIG ${k}.0.0.0/12`);
  assert.throws(() => parseIpsetSave(lines.join('\n')), parseError(2, /maxelem 65536/));
});

test('the element budget counts all sets of a dump, names itself, and can be raised', () => {
  const text = ['create a hash:ip maxelem 1000', 'create b hash:net maxelem 1000', 'add a 10.0.0.0/24', 'add b 10.1.0.0/24', 'add b 10.2.0.0-10.2.0.255'].join('\n');
  // hash:net stores a range as its covering prefixes (one here), so the dump holds 256 + 1 + 1.
  assert.equal(parseIpsetSave(text, { ipsetElementBudget: 258 }).sets.get('a')!.entries.length, 256);
  assert.throws(() => parseIpsetSave(text, { ipsetElementBudget: 257 }), parseError(5, /b \(hash:net\): "10\.2\.0\.0-10\.2\.0\.255" is too large: it exceeds the element budget of 257 across all sets of this dump \(257 stored; the limit ipsetElementBudget = 257 \(raise it with --ipset-element-budget N, in VS Code the setting netpath\.limits\.ipsetElementBudget\)\)/));
  assert.throws(() => parseIpsetSave(text, { ipsetElementBudget: 100 }), parseError(3, /"10\.0\.0\.0\/24" is too large: it exceeds the element budget of 100/));
  // Bitmaps and list:set count too.
  assert.throws(() => parseIpsetSave('create p bitmap:port range 0-65535\nadd p 1-1000', { ipsetElementBudget: 999 }), parseError(2, /p \(bitmap:port\).*element budget of 999/));
  assert.throws(() => parseIpsetSave('create x hash:ip\ncreate l list:set\nadd l x\nadd x 10.0.0.1', { ipsetElementBudget: 1 }), parseError(4, /element budget of 1\b/));
  assert.ok(DEFAULT_ELEMENT_BUDGET >= 7 * DEFAULT_MAXELEM);
});

test('list:set keeps each member once: a re-add fails without -exist and keeps its place with it', () => {
  const base = 'create a hash:ip\ncreate b hash:ip\ncreate c hash:ip\ncreate l list:set size 8\nadd l a\nadd l b\n';
  assert.throws(() => parseIpsetSave(`${base}add l a`), parseError(7, /set "a" is already in list l/));
  const r = parseIpsetSave(`${base}add l c before a\nadd l a after b -exist timeout 5`);
  const l = r.sets.get('l')!;
  assert.deepEqual(l.entries.map((e) => (e.dims[0].kind === 'set' ? e.dims[0].name : '?')), ['c', 'a', 'b']);
  // -exist renewed the extensions of the member where it stands.
  assert.equal(l.entries[1].timeout, 5);
  assert.throws(() => parseIpsetSave(`${base}add l c after z`), parseError(7, /set "z" is not in list l/));
});

test('list:set before/after lands where repeated array splices put it', () => {
  // A reference model: the splice the parser used to do, on a random sequence of adds.
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 50; round++) {
    const model: string[] = [];
    const lines = ['create l list:set size 100'];
    for (let k = 0; k < 60; k++) {
      const name = `m${k}`;
      const how = model.length === 0 ? 0 : rand(3);
      if (how === 0) {
        model.push(name);
        lines.push(`add l ${name}`);
      } else {
        const ref = model[rand(model.length)];
        const at = model.indexOf(ref);
        model.splice(how === 1 ? at : at + 1, 0, name);
        lines.push(`add l ${name} ${how === 1 ? 'before' : 'after'} ${ref}`);
      }
    }
    const got = parseIpsetSave(lines.join('\n')).sets.get('l')!.entries.map((e) => (e.dims[0].kind === 'set' ? e.dims[0].name : '?'));
    assert.deepEqual(got, model);
  }
});

test('the element budget is passed down from the engine entry point (Network) to each namespace', () => {
  const snapshot = JSON.parse(readFileSync('test/fixtures/snapshot/healthy.netpath.json', 'utf8')) as NetpathSnapshot;
  const node = Object.keys(snapshot.dumps)[0];
  snapshot.dumps[node].node.ipsets = 'create s hash:net maxelem 1000\nadd s 10.0.0.0/24\nadd s 10.1.0.0/24\nadd s 10.2.0.0/24';
  const low = new Network(snapshot, undefined, { ipsetElementBudget: 2 }).stack(node)!.host;
  assert.equal(low.ipsets, undefined);
  assert.ok(low.problems.some((p) => p.field === 'ipsets' && /element budget of 2 .*the limit ipsetElementBudget = 2 \(raise it with --ipset-element-budget N/.test(p.message)), JSON.stringify(low.problems));
  const raised = new Network(snapshot, undefined, { ipsetElementBudget: 3 }).stack(node)!.host;
  assert.equal(raised.ipsets!.sets.get('s')!.entries.length, 3);
  assert.equal(new Network(snapshot).stack(node)!.host.ipsets!.sets.get('s')!.entries.length, 3);
});
