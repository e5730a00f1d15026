// The router follows the kernel a dump comes from: release strings parse to versions, each
// version-dependent behaviour flips at its boundary, an unknown kernel gets the newest behaviour
// and says so, and NodeStack hands the dump's kernel to every namespace's router.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseRoutes, parseRules } from '../../../src/engine/netstack/routes';
import { Router } from '../../../src/engine/netstack/router';
import { kernelProfile, parseKernelRelease } from '../../../src/engine/netstack/router-kernel-profile';
import { Sysctls } from '../../../src/engine/netstack/sysctl';
import type { Interface } from '../../../src/engine/netstack/interfaces-model';
import { NodeStack } from '../../../src/engine/datapath/node-stack';
import { loadSnapshot } from '../../../src/engine/snapshot/load';
import type { KernelInfo } from '../../../src/shared/dump';

test('parseKernelRelease reads the version numbers at the start of uname -r', () => {
  assert.deepEqual(parseKernelRelease('6.18.44-fc-v1300'), { major: 6, minor: 18, patch: 44 });
  assert.deepEqual(parseKernelRelease('5.15.0-91-generic'), { major: 5, minor: 15, patch: 0 });
  assert.deepEqual(parseKernelRelease('6.1.0-rc3+'), { major: 6, minor: 1, patch: 0 });
  assert.deepEqual(parseKernelRelease('4.19'), { major: 4, minor: 19, patch: 0 });
  assert.deepEqual(parseKernelRelease('3.10.0-1160.el7.x86_64'), { major: 3, minor: 10, patch: 0 });
  for (const bad of ['', 'linux', 'v6.1', '6', '6.x.1', '-6.1']) assert.equal(parseKernelRelease(bad), undefined, bad);
});

test('kernelProfile: the rp_filter errno flips at 6.13, the multipath source preference at 6.15; unknown or unparsable releases get the newest and say so', () => {
  const errno = (release: string) => kernelProfile({ release, ipv6MulticastRouting: true }).rpFilterErrno;
  assert.equal(errno('4.19.0-25-amd64'), 'EXDEV');
  assert.equal(errno('6.12.48'), 'EXDEV');
  assert.equal(errno('6.13.0'), 'EINVAL');
  assert.equal(errno('6.18.44-fc-v1300'), 'EINVAL');
  assert.equal(errno('7.0.1'), 'EINVAL');
  const prefers = (release: string) => kernelProfile({ release }).multipathPrefersSource;
  assert.deepEqual(['6.14.99', '6.15.0', '6.18.44-fc-v1300', '5.4.0'].map(prefers), [false, true, true, false]);
  assert.equal(kernelProfile().multipathPrefersSource, true);
  assert.deepEqual(kernelProfile({ release: '6.1.0', ipv6MulticastRouting: false }).assumed, {});
  const none = kernelProfile();
  assert.equal(none.rpFilterErrno, 'EINVAL');
  assert.equal(none.ipv6MulticastRouting, true, 'the common distributions build CONFIG_IPV6_MROUTE');
  assert.match(none.assumed.release!, /release not in the dump: newest behaviour assumed/);
  assert.match(none.assumed.ipv6MulticastRouting!, /IPv6 multicast routing .* assumed built in/);
  const odd = kernelProfile({ release: 'custom\u001b[31m' });
  assert.equal(odd.rpFilterErrno, 'EINVAL');
  assert.ok(odd.assumed.release!.includes('"custom\\u001b[31m" not understood'), 'the release is quoted escaped');
  assert.ok(!odd.name.includes('\u001b'), 'no raw control character in the name');
});

const iface = (index: number, name: string, v4: string, v6: string): Interface => ({
  index, name, kind: name === 'lo' ? 'loopback' : 'veth', mtu: 1500, adminUp: true, lowerUp: true, operState: 'UP', flags: [],
  addresses: [v4, v6].map((a) => ({ family: a.includes(':') ? 6 : 4, address: a, prefixLen: a.includes(':') ? 64 : 24, scope: 'global', secondary: false, flags: [] })),
} as Interface);
const IFS = [iface(1, 'lo', '127.0.0.1', '::1'), iface(2, 'e0', '10.0.0.1', '2001:db8::1'), iface(3, 'e1', '10.1.0.1', '2001:db8:1::1')];
const rules = (fam: 4 | 6) => parseRules(JSON.stringify([{ priority: 0, src: 'all', table: 'local' }, { priority: 32766, src: 'all', table: 'main' }]), { family: fam });
const ROUTES = parseRoutes(JSON.stringify([
  { dst: '10.0.0.0/24', dev: 'e0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.0.1', flags: [] },
  { dst: '10.1.0.0/24', dev: 'e1', protocol: 'kernel', scope: 'link', prefsrc: '10.1.0.1', flags: [] },
  { dst: '9.0.0.0/8', gateway: '10.1.0.254', dev: 'e1', flags: [] },
  { type: 'local', dst: '10.0.0.1', dev: 'e0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.0.0.1', flags: [] },
  { type: 'local', dst: '10.1.0.1', dev: 'e1', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.1.0.1', flags: [] },
  // As every IPv6 interface gets them: `multicast ff00::/8 dev X table local`.
  { type: 'multicast', dst: 'ff00::/8', dev: 'e0', table: 'local', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
  { type: 'multicast', dst: 'ff00::/8', dev: 'e1', table: 'local', protocol: 'kernel', metric: 256, flags: [], pref: 'medium' },
]));
const STRICT = new Sysctls({ 'net.ipv4.conf.e0.forwarding': '1', 'net.ipv4.conf.all.rp_filter': '1', 'net.ipv4.conf.e0.rp_filter': '1' });
const routerFor = (kernel?: KernelInfo) => new Router(ROUTES, [...rules(4), ...rules(6)], IFS, { sysctls: STRICT, kernel: kernelProfile(kernel) });

test('rp_filter failure: EXDEV on a kernel before 6.13, EINVAL since, EINVAL (said) when unknown', () => {
  // Arrives on e0 from a source whose route back leaves by e1: strict rp_filter drops it.
  const q = { dst: '9.1.1.1', src: '10.1.0.9', iif: 'e0' };
  const old = routerFor({ release: '6.1.0-18-amd64', ipv6MulticastRouting: true }).lookup(q);
  assert.ok(!old.ok && old.kind === 'rp-filter');
  assert.equal(old.errno, 'EXDEV');
  assert.equal(old.message, 'Invalid cross-device link');
  assert.ok(old.why.some((w) => w === 'Linux 6.1.0-18-amd64 answers EXDEV for it'));
  const recent = routerFor({ release: '6.18.44-fc-v1300', ipv6MulticastRouting: false }).lookup(q);
  assert.ok(!recent.ok && recent.kind === 'rp-filter' && recent.errno === 'EINVAL' && recent.message === 'Invalid argument');
  const unknown = routerFor().lookup(q);
  assert.ok(!unknown.ok && unknown.errno === 'EINVAL');
  assert.ok(unknown.why.some((w) => /newest behaviour assumed/.test(w)), 'the assumption is named where it decides');
  assert.ok(!unknown.why.some((w) => /multicast/.test(w)), 'and only the one that decides');
});

test('IPv4 multipath with a source: the nexthops of that source since 6.15, the flow hash over all before', () => {
  const routes = parseRoutes(JSON.stringify([
    { dst: '10.0.0.0/24', dev: 'e0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.0.1', flags: [] },
    { dst: '10.1.0.0/24', dev: 'e1', protocol: 'kernel', scope: 'link', prefsrc: '10.1.0.1', flags: [] },
    { dst: '9.0.0.0/8', flags: [], nexthops: [{ gateway: '10.0.0.254', dev: 'e0', weight: 1, flags: [] }, { gateway: '10.1.0.254', dev: 'e1', weight: 1, flags: [] }] },
  ]));
  const lookup = (release: string) => new Router(routes, rules(4), IFS, { kernel: kernelProfile({ release, ipv6MulticastRouting: true }) }).lookup({ dst: '9.1.1.1', src: '10.1.0.1' });
  const recent = lookup('6.15.0');
  assert.ok(recent.ok && !recent.hashed && recent.dev === 'e1');
  assert.ok(recent.why.includes('Linux 6.15.0 prefers the nexthops whose source is 10.1.0.1'));
  const old = lookup('6.14.11');
  assert.ok(old.ok && old.hashed);
  assert.deepEqual(old.nexthops.map((n) => n.dev), ['e0', 'e1']);
});

test('IPv6 multicast input: EMSGSIZE with CONFIG_IPV6_MROUTE, the multicast route without it', () => {
  const q = { dst: 'ff02::1', src: 'fe80::9', iif: 'e1' };
  const mroute = routerFor({ release: '6.18.44', ipv6MulticastRouting: true }).lookup(q);
  assert.ok(!mroute.ok && mroute.kind === 'multicast-input' && mroute.errno === 'EMSGSIZE' && mroute.message === 'Message too long');
  const plain = routerFor({ release: '6.18.44-fc-v1300', ipv6MulticastRouting: false }).lookup(q);
  assert.ok(plain.ok, plain.ok ? '' : `${plain.message}: ${plain.why.join(' | ')}`);
  // As 6.18.44 without it answers: `multicast ff02::1 from fe80::9 dev e1 table local … iif e1`.
  assert.equal(plain.type, 'multicast');
  assert.equal(plain.dev, 'e1', 'the input interface scores its own ff00::/8 route first');
  assert.equal(plain.table?.name, 'local');
  assert.equal(plain.input, 'local');
  const assumed = routerFor({ release: '6.18.44' }).lookup(q);
  assert.ok(!assumed.ok && assumed.errno === 'EMSGSIZE');
  assert.ok(assumed.why.some((w) => /assumed built in/.test(w)));
  // The output path never asks ip6mr: the same on every kernel.
  for (const k of [true, false]) {
    const out = routerFor({ release: '6.18.44', ipv6MulticastRouting: k }).lookup({ dst: 'ff02::1', oif: 'e0' });
    assert.ok(out.ok && out.type === 'multicast' && out.dev === 'e0');
  }
});

test('NodeStack gives every namespace the dump\'s kernel', () => {
  const snap = loadSnapshot(readFileSync('test/fixtures/snapshot/healthy.netpath.json', 'utf8'));
  const dump = snap.dumps.node1;
  const old = new NodeStack('node1', { ...dump, kernel: { release: '5.10.0-28-amd64', ipv6MulticastRouting: false } }, () => undefined);
  for (const ns of old.all()) {
    assert.equal(ns.kernel?.rpFilterErrno, 'EXDEV', ns.label);
    assert.equal(ns.kernel?.ipv6MulticastRouting, false, ns.label);
  }
  const { kernel: _, ...withoutKernel } = dump;
  const unknown = new NodeStack('node1', withoutKernel, () => undefined);
  assert.equal(unknown.host.kernel?.rpFilterErrno, 'EINVAL');
  assert.ok(unknown.host.kernel!.assumed.release);
});
