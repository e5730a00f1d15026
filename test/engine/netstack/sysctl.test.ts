// sysctl -a text and Linux's per-key all/iface resolution, on real dumps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../../../src/engine/netstack/parse-error';
import {
  Sysctls, bridgeNfCallIptables, conntrackCount, conntrackMax, ipForward, ipv4Conf, ipv4Forwarding, ipv6AcceptRa, ipv6Disabled, ipv6ForwardingOn, ipv6ProxyNdp,
  localPortRange, parseSysctl, rpFilter, sysctlIfName,
} from '../../../src/engine/netstack/sysctl';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');

test('generated node: typed values incl. tab-separated ones', () => {
  const s = Sysctls.parse(read('gen/node.sysctl.txt'));
  assert.ok(s.values.size > 1000);
  assert.deepEqual(localPortRange(s), [32768, 60999]);
  assert.equal(ipForward(s), true);
  assert.equal(ipv6ForwardingOn(s, 'eth0').on, true);
  assert.equal(s.get('net.ipv4.conf.eth0/100.rp_filter'), '2');
  assert.equal(sysctlIfName('eth0.100'), 'eth0/100');
  const pct = conntrackMax(s);
  console.log(`node sysctls: ${s.values.size} keys; conntrack count ${conntrackCount(s)} max ${pct}; bridge-nf-call-iptables ${bridgeNfCallIptables(s)}`);
});

test('generated node: rp_filter = max(all, iface); OR/max/per-interface rules', () => {
  const s = Sysctls.parse(read('gen/node.sysctl.txt'));
  assert.equal(rpFilter(s, 'eth0'), 2); // all 1, eth0 2
  assert.equal(rpFilter(s, 'cni0'), 1); // all 1, cni0 0 -> still strict
  assert.equal(rpFilter(s, 'eth0.100'), 2); // dot in the name -> eth0/100 key
  assert.equal(rpFilter(s, 'flannel.1'), 1);
  assert.equal(ipv4Conf(s, 'cni0', 'rp_filter').explanation, 'rp_filter on cni0 = max(all 1, cni0 0) = 1');
  assert.equal(ipv4Conf(s, 'cni0', 'proxy_arp').value, 1); // OR: cni0 1
  assert.equal(ipv4Conf(s, 'eth0', 'proxy_arp').value, 0);
  assert.equal(ipv4Conf(s, 'eth0', 'arp_ignore').value, 2); // max(all 1, eth0 2)
  assert.equal(ipv4Conf(s, 'cni0', 'arp_ignore').value, 1); // max(all 1, cni0 0)
  assert.equal(ipv4Conf(s, 'cni0', 'log_martians').value, 1); // OR with all 1
  assert.equal(ipv4Conf(s, 'eth0', 'route_localnet').value, 1);
  assert.equal(ipv4Conf(s, 'cni0', 'route_localnet').value, 0);
  // forwarding: all=1 (ip_forward) but tun0 turned off afterwards: the interface value counts.
  assert.equal(ipv4Forwarding(s, 'tun0'), false);
  assert.equal(ipv4Forwarding(s, 'eth0'), true);
  assert.equal(ipv4Conf(s, 'nosuchif', 'forwarding').value, undefined);
});

test('pod1: rp_filter from the interface when all is 0', () => {
  const s = Sysctls.parse(read('gen/pod1.sysctl.txt'));
  assert.equal(rpFilter(s, 'eth0'), 1);
  assert.equal(rpFilter(s, 'lo'), 0);
});

test('two-node dump (partial sysctls): missing keys are unknown, never guessed', () => {
  const s = Sysctls.parse(read('two-node-dump/node1.sysctl.txt'));
  assert.equal(ipForward(s), true);
  assert.equal(bridgeNfCallIptables(s), true);
  // all.rp_filter=1 known, eth0 unknown: max() cannot be known.
  assert.equal(rpFilter(s, 'eth0'), undefined);
  assert.equal(ipv4Conf(s, 'eth0', 'rp_filter').all, 1);
  assert.equal(ipv4Forwarding(s, 'eth0'), undefined);
  assert.equal(conntrackMax(s), undefined);
  // OR with one side 1 is settled even if the other side is missing.
  const t = new Sysctls({ 'net.ipv4.conf.all.log_martians': '1' });
  assert.equal(ipv4Conf(t, 'eth0', 'log_martians').value, 1);
  assert.equal(ipv4Conf(t, 'eth0', 'accept_local').value, undefined);
});

test('syntax: key=value, tabs, comments, diagnostics; errors name line and column', () => {
  const d = parseSysctl('# c\nnet.a=1\n  net.b =\t2\t3 \nsysctl: permission denied on key "x"\n\nnet.c = \n');
  assert.deepEqual([...d.values], [['net.a', '1'], ['net.b', '2\t3'], ['net.c', '']]);
  assert.equal(d.diagnostics.length, 1);
  assert.throws(() => parseSysctl('net.a = 1\nnet.b 2\n'), (e: unknown) => e instanceof ParseError && e.line === 2 && e.column === 1);
  assert.throws(() => parseSysctl('net.a = 1\n net x = 2\n'), (e: unknown) => e instanceof ParseError && e.line === 2 && e.column === 5);
  assert.throws(() => parseSysctl(' = 2'), (e: unknown) => e instanceof ParseError && e.line === 1 && e.column === 2);
});

test('IPv6: all.forwarding alone forwards (force_forwarding where the kernel has it); accept_ra and proxy NDP follow the interface\'s own forwarding', () => {
  const s = (kv: Record<string, string>) => new Sysctls(kv);
  assert.equal(ipv6ForwardingOn(s({ 'net.ipv6.conf.all.forwarding': '0', 'net.ipv6.conf.eth0.forwarding': '1' }), 'eth0').on, false);
  assert.equal(ipv6ForwardingOn(s({ 'net.ipv6.conf.all.forwarding': '1', 'net.ipv6.conf.eth0.forwarding': '0' }), 'eth0').on, true);
  assert.deepEqual(ipv6ForwardingOn(s({ 'net.ipv6.conf.all.forwarding': '0', 'net.ipv6.conf.eth0/100.force_forwarding': '1' }), 'eth0.100'), {
    on: true, evidence: ['net.ipv6.conf.all.forwarding = 0', 'net.ipv6.conf.eth0/100.force_forwarding = 1'],
  });
  assert.equal(ipv6ForwardingOn(s({}), 'eth0').on, undefined, 'not in the dump: unknown');
  assert.equal(ipv6Disabled(s({ 'net.ipv6.conf.vb.disable_ipv6': '1' }), 'vb'), true);
  assert.equal(ipv6AcceptRa(s({ 'net.ipv6.conf.eth0.accept_ra': '1', 'net.ipv6.conf.eth0.forwarding': '1' }), 'eth0').accepted, false);
  assert.equal(ipv6AcceptRa(s({ 'net.ipv6.conf.eth0.accept_ra': '2', 'net.ipv6.conf.eth0.forwarding': '1' }), 'eth0').accepted, true);
  assert.equal(ipv6AcceptRa(s({ 'net.ipv6.conf.eth0.accept_ra': '1', 'net.ipv6.conf.eth0.forwarding': '0' }), 'eth0').accepted, true);
  assert.equal(ipv6AcceptRa(s({ 'net.ipv6.conf.eth0.accept_ra': '1' }), 'eth0').accepted, undefined);
  const on = { 'net.ipv6.conf.va.forwarding': '1', 'net.ipv6.conf.all.proxy_ndp': '0', 'net.ipv6.conf.va.proxy_ndp': '1' };
  assert.equal(ipv6ProxyNdp(s(on), 'va').on, true);
  assert.equal(ipv6ProxyNdp(s({ ...on, 'net.ipv6.conf.va.forwarding': '0' }), 'va').on, false);
  assert.equal(ipv6ProxyNdp(s({ ...on, 'net.ipv6.conf.va.proxy_ndp': '0', 'net.ipv6.conf.all.proxy_ndp': '1' }), 'va').on, true);
  assert.equal(ipv6ProxyNdp(s({ ...on, 'net.ipv6.conf.va.proxy_ndp': '0' }), 'va').on, false);
  assert.equal(ipv6ProxyNdp(s({ 'net.ipv6.conf.va.forwarding': '1' }), 'va').on, undefined);
});
