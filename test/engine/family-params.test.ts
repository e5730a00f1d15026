// The server's diagnose params check (src/server/params.ts, pure): `request.family` and SCTP are
// accepted as the CLI accepts them, anything else is bad params naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseParams } from '../../src/server/params';

const source = { kind: 'snapshot', path: '/tmp/x.netpath.json' };
const request = { src: 'default/a', dst: 'svc/default/b', port: 80 };

test('diagnose params: family 4 or 6 and protocol sctp pass through; absent family stays absent', () => {
  assert.equal(diagnoseParams({ source, request: { ...request, family: 6 } }).request.family, 6);
  assert.equal(diagnoseParams({ source, request: { ...request, family: 4, protocol: 'sctp' } }).request.protocol, 'sctp');
  assert.ok(!('family' in diagnoseParams({ source, request }).request));
});

test('diagnose params: a family other than 4 or 6 is bad params naming params.request.family', () => {
  for (const family of [5, '6', null, 4.5]) {
    assert.throws(() => diagnoseParams({ source, request: { ...request, family } }), /params\.request\.family/, String(family));
  }
  assert.throws(() => diagnoseParams({ source, request: { ...request, protocol: 'icmp' } }), /params\.request\.protocol/);
});
