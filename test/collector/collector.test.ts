// The collector against real network namespaces (root): a node netns with a bridge, two pod
// netns on veths, routes, a policy rule, iptables rules in both backends, an ipset and a
// listening socket. Checks the dump has each netns once with each field parsed, that missing
// tools are recorded, that dash, busybox sh and the gzip and `ip netns exec` paths give the same
// dump, and `netpath collect` end to end through dist/cli.js. Then netdev chains (npnd netns): the
// text listing recorded when nft -j leaves their devices out, and the engine deciding with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCollector, runCollectorRaw } from '../../src/collector/run';
import { walkSend } from '../../src/engine/datapath/walk';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import { NetNS } from '../../src/engine/netstack/netns';
import { parseNftRuleset } from '../../src/engine/netstack/nftables/model';
import { convertCollectorOutput } from '../../src/collector/convert';
import { parseInterfaces } from '../../src/engine/netstack/interfaces';
import { parseIptablesSave } from '../../src/engine/netstack/iptables/parse';
import { mapPodsToNetns } from '../../src/engine/snapshot/pod-netns';
import type { NetNSInfo, NodeNetworkStackDump } from '../../src/shared/dump';
import { NetnsLab, netnsInode, sh } from './netns';
import { collectorTools, haveTool, kernelTestSkip } from '../support/machine';
import { describeKernel, runningKernel } from '../support/kernel';

// The collector's tools, plus those that build the fixture (rules in both iptables backends, a listener).
const skip = kernelTestSkip([...collectorTools(), 'iptables-nft', 'iptables-legacy', 'iptables-legacy-save', 'ip6tables-legacy-save', 'nc']) ?? false;

test('collector on real network namespaces', { skip }, async (t) => {
  const lab = new NetnsLab('npcol-t-');
  try {
    lab.add('h', 'p1', 'p2', 'u');
    const [h, p1, p2, u] = ['h', 'p1', 'p2', 'u'].map((s) => lab.name(s));
    sh(`
      ip -n ${h} link add cni0 type bridge
      ip -n ${h} addr add 10.244.1.1/24 dev cni0
      ip -n ${h} link set cni0 up
      ip -n ${h} link set lo up
      ip -n ${h} link add veth1 type veth peer name eth0 netns ${p1}
      ip -n ${h} link add veth2 type veth peer name eth0 netns ${p2}
      ip -n ${h} link set veth1 master cni0 up
      ip -n ${h} link set veth2 master cni0 up
      ip -n ${p1} addr add 10.244.1.2/24 dev eth0
      ip -n ${p2} addr add 10.244.1.3/24 dev eth0
      for p in ${p1} ${p2}; do ip -n $p link set eth0 up; ip -n $p link set lo up; ip -n $p route add default via 10.244.1.1; done
      ip -n ${h} link add up0 type veth peer name up0 netns ${u}
      ip -n ${h} addr add 198.51.100.1/24 dev up0
      ip -n ${u} addr add 198.51.100.2/24 dev up0
      ip -n ${h} link set up0 up
      ip -n ${u} link set up0 up
      ip -n ${h} route add 10.244.2.0/24 via 198.51.100.2 dev up0
      ip -n ${h} rule add from 10.244.1.3 table 100 priority 100
      ip -n ${h} route add blackhole 10.99.0.0/16 table 100
      ip netns exec ${h} sysctl -qw net.ipv4.ip_forward=1
      ip netns exec ${h} ipset create npcol-set hash:ip
      ip netns exec ${h} ipset add npcol-set 10.244.1.2
      ip netns exec ${h} iptables-nft -t nat -A POSTROUTING -s 10.244.1.0/24 ! -o cni0 -j MASQUERADE
      ip netns exec ${h} iptables-nft -A FORWARD -m set --match-set npcol-set src -j ACCEPT
      ip netns exec ${h} iptables-legacy -A INPUT -p tcp --dport 9999 -j DROP
    `);
    // Let IPv6 DAD finish first: it adds routes and flips flags, which would differ between runs.
    for (let i = 0; i < 100 && [h, p1, p2, u].some((n) => sh(`ip -n ${n} -6 addr show tentative`).trim() !== ''); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const hostPid = await lab.sleeper('h');
    const p1a = await lab.sleeper('p1');
    const p1b = await lab.sleeper('p1');
    const p2pid = await lab.sleeper('p2', ['nc', '-l', '8080']);
    const pids = [p1a, p1b, p2pid];
    const ids = { h: netnsInode(hostPid), p1: netnsInode(p1a), p2: netnsInode(p2pid) };

    const t0 = Date.now();
    const dump = await runCollector({ hostPid, pids });
    t.diagnostic(`3 netns dumped in ${Date.now() - t0} ms (collector says ${dump.collector.durationMs} ms)`);

    assert.deepEqual(dump.collector.errors, [], 'no tool failed and every parser accepted the output');
    assert.deepEqual(dump.kernel, runningKernel(), 'the node\'s kernel: release and IPv6 multicast routing');
    t.diagnostic(`kernel recorded: ${describeKernel(dump.kernel!)}`);
    assert.equal(dump.node.id, ids.h);
    assert.deepEqual(dump.node.pids, [hostPid]);
    assert.deepEqual(dump.netns.map((n) => n.id), [ids.p1, ids.p2].sort((a, b) => a - b), 'one entry per netns, de-duplicated by inode');
    const ns1 = dump.netns.find((n) => n.id === ids.p1)!;
    const ns2 = dump.netns.find((n) => n.id === ids.p2)!;
    assert.deepEqual(ns1.pids, [p1a, p1b].sort((a, b) => a - b));

    const fields: (keyof NetNSInfo)[] = ['links', 'addresses', 'routes', 'routes6', 'rules', 'rules6', 'neighbours', 'neighbours6', 'neighbours6Proxy', 'fdb', 'iptables', 'ip6tables', 'ipsets', 'ipvs', 'nftables', 'sockets', 'sysctls'];
    for (const ns of [dump.node, ...dump.netns]) {
      for (const f of fields) assert.ok(ns[f] !== undefined, `netns ${ns.id} has ${f}`);
    }

    const ifaces = parseInterfaces(JSON.stringify(dump.node.links), JSON.stringify(dump.node.addresses));
    const cni0 = ifaces.find((i) => i.name === 'cni0')!;
    assert.equal(cni0.kind, 'bridge');
    assert.deepEqual(ifaces.filter((i) => i.master === 'cni0').map((i) => i.name).sort(), ['veth1', 'veth2']);
    assert.ok(dump.node.routes!.some((r) => r.dst === '10.244.2.0/24' && r.gateway === '198.51.100.2'));
    assert.ok(dump.node.routes!.some((r) => r.type === 'blackhole' && r.table === '100'));
    assert.ok(dump.node.rules!.some((r) => r.priority === 100 && r.table === '100' && r.src === '10.244.1.3'));
    assert.ok(ns1.addresses!.some((l) => JSON.stringify(l).includes('"local":"10.244.1.2"')));

    // Both iptables backends hold rules in the node netns: both are kept, marked.
    assert.deepEqual(Object.keys(dump.node.iptables!).sort(), ['legacy', 'nft']);
    assert.match(dump.node.iptables!.nft!, /-A POSTROUTING -s 10\.244\.1\.0\/24 ! -o cni0 -j MASQUERADE/);
    assert.match(dump.node.iptables!.legacy!, /--dport 9999 -j DROP/);
    assert.ok(parseIptablesSave(dump.node.iptables!.legacy!).tables.length > 0);
    // Pods hold no rules: the one readable backend is kept (empty), so "empty" ≠ "not collected".
    assert.deepEqual(Object.keys(ns1.iptables!), ['nft']);
    assert.match(dump.node.ipsets!, /create npcol-set hash:ip/);
    assert.equal(ns1.ipsets, '');
    assert.ok(typeof dump.node.nftables === 'object' && dump.node.nftables !== null && 'nftables' in dump.node.nftables);
    assert.match(ns2.sockets!, /:8080\b/);
    assert.equal(dump.node.sysctls!['net.ipv4.ip_forward'], '1');
    assert.equal(ns1.sysctls!['net.ipv4.ip_forward'], '0');
    assert.equal(ns1.sysctls!['net.ipv4.conf.eth0.forwarding'], '0');

    // Pods are mapped to their netns by IP; hostNetwork pods to the node netns.
    const pod = (name: string, ip: string | undefined, hostNetwork = false) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName: 'node1', hostNetwork }, status: ip ? { podIP: ip, podIPs: [{ ip }] } : {},
    });
    const m = mapPodsToNetns([pod('a', '10.244.1.2'), pod('b', '10.244.1.3'), pod('hn', '198.51.100.1', true), pod('gone', '10.244.1.77')], { node1: dump });
    assert.deepEqual(m.pods.map((p) => [p.pod, p.netns]), [['default/a', ids.p1], ['default/b', ids.p2], ['default/hn', ids.h]]);
    assert.deepEqual(m.podsWithoutNetns.map((p) => p.pod), ['default/gone']);
    assert.deepEqual(m.netnsWithoutPod, []);

    // The dump minus what changes by itself between two runs (bridge timers, conntrack count,
    // neighbour states, IPv6 DAD in progress, iptables-save's "# Generated … on <time>" and packet counters).
    const stable = (d: NodeNetworkStackDump) => {
      const volatile = (k: string) => k.endsWith('_timer') || k === 'net.netfilter.nf_conntrack_count' || k === 'conntrack' || k === 'neighbours' || k === 'neighbours6' || k === 'tentative';
      const clean = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(clean);
        if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !volatile(k)).map(([k, x]) => [k, clean(x)]));
        return typeof v === 'string' && v.startsWith('# Generated by') ? v.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, '[counters]') : v;
      };
      return [d.node, ...d.netns].map((n) => clean(n));
    };
    /** Names the first differing path instead of printing two 100 kB documents. */
    const sameDump = (got: unknown[], want: unknown[], label: string) => {
      const first = (a: unknown, b: unknown, at: string): string | undefined => {
        if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
        if (a && b && typeof a === 'object' && typeof b === 'object') {
          for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
            const d = first((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
            if (d) return d;
          }
        }
        return `${at}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`;
      };
      const d = first(got, want, 'netns');
      assert.equal(d, undefined, `${label}: dumps differ at ${d}`);
    };
    const reference = stable(dump);

    await t.test('dash, busybox sh and --jobs 1 give the same dump', async (t) => {
      const shells: [string, string[]][] = [['dash', ['dash']], ['busybox sh', ['busybox', 'sh']]];
      for (const [label, shell] of shells) {
        if (!haveTool(shell[0])) {
          t.diagnostic(`${label}: not installed, skipped`);
          continue;
        }
        const d = await runCollector({ hostPid, pids, shell, jobs: 1, env: { ...process.env, NETPATH_SH: shell.join(' ') } });
        assert.deepEqual(d.collector.errors, [], label);
        assert.deepEqual(d.kernel, dump.kernel, label);
        sameDump(stable(d), reference, label);
        t.diagnostic(`${label}: identical dump in ${d.collector.durationMs} ms`);
      }
    });

    await t.test('--gzip output converts to the same dump', async () => {
      const raw = await runCollectorRaw({ hostPid, pids, gzip: true });
      assert.match(raw.subarray(0, 30).toString(), /^netpath-collector-gzip 1\n/);
      sameDump(stable(convertCollectorOutput(raw)), reference, 'gzip');
    });

    // A PATH holding only the listed commands (symlinks), to simulate missing tools.
    const pathWithout = (...drop: string[]) => {
      const dir = mkdtempSync(join(tmpdir(), 'npcol-path-'));
      const wanted = ['sh', 'ip', 'bridge', 'nsenter', 'cat', 'wc', 'head', 'mv', 'rm', 'mktemp', 'date', 'readlink', 'ls', 'awk', 'sort', 'tr', 'grep', 'sysctl', 'ss', 'iptables-nft-save', 'iptables-legacy-save', 'ip6tables-nft-save', 'ip6tables-legacy-save', 'ipset', 'ipvsadm', 'nft', 'gzip', 'base64', 'printf'];
      for (const cmd of wanted.filter((c) => !drop.includes(c))) {
        const where = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
        if (where.startsWith('/')) symlinkSync(where, join(dir, cmd));
      }
      return dir;
    };

    await t.test('missing tools leave their fields absent and are recorded per netns', async () => {
      const dir = pathWithout('ipset', 'nft', 'ss');
      try {
        const d = await runCollector({ hostPid, pids, shell: [join(dir, 'sh')], env: { PATH: dir } });
        for (const ns of [d.node, ...d.netns]) {
          assert.equal(ns.ipsets, undefined);
          assert.equal(ns.nftables, undefined);
          assert.equal(ns.sockets, undefined);
          assert.ok(ns.procNet?.tcp?.includes('local_address'), 'ss missing: /proc/net/tcp fallback');
          assert.ok(ns.routes && ns.iptables, 'the other tools still ran');
        }
        const byTool = (tool: string) => d.collector.errors.filter((e) => e.tool === tool);
        for (const tool of ['ipset save', 'nft -j list ruleset']) {
          const errs = byTool(tool);
          assert.deepEqual(errs.map((e) => e.netns).sort(), [ids.h, ids.p1, ids.p2].sort(), `${tool}: one error per netns`);
          for (const e of errs) {
            assert.equal(e.exitCode, 127);
            assert.match(e.message, /not found/);
          }
        }
        assert.deepEqual(byTool('ss -Htuln'), [], 'ss is covered by its fallback, not an error');
        t.diagnostic(`errors recorded: ${d.collector.errors.length} (${[...new Set(d.collector.errors.map((e) => e.tool))].join(', ')})`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    await t.test('without nsenter, `ip netns exec` gives the same dump', async () => {
      const dir = pathWithout('nsenter');
      try {
        const d = await runCollector({ hostPid, pids, shell: [join(dir, 'sh')], env: { PATH: dir } });
        assert.deepEqual(d.collector.errors, []);
        sameDump(stable(d), reference, 'ip netns exec');
        const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
        assert.doesNotMatch(left, /^netpath-/m, 'the temporary netns names are removed');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    await t.test('a pid that does not exist is an error, the rest is dumped', async () => {
      const d = await runCollector({ hostPid, pids: [p1a, 999999999] });
      assert.deepEqual(d.netns.map((n) => n.id), [ids.p1]);
      assert.equal(d.collector.errors.length, 1);
      assert.match(d.collector.errors[0].message, /pid:999999999: no such process/);
    });

    await t.test('netpath collect end to end (dist/cli.js)', { skip: !existsSync('dist/cli.js') && 'run `npm run build` first' }, () => {
      const dir = mkdtempSync(join(tmpdir(), 'npcol-cli-'));
      try {
        const out = join(dir, 'dump.json');
        const r = spawnSync(process.execPath, ['dist/cli.js', 'collect', '--host-pid', String(hostPid), '--pids', pids.join(','), '-o', out], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /node netns \d+ \+ 2 pod netns in \d+ ms/);
        const d = JSON.parse(readFileSync(out, 'utf8')) as NodeNetworkStackDump;
        sameDump(stable(d), reference, 'netpath collect');
        assert.deepEqual(d.kernel, runningKernel(), 'netpath collect records the kernel');
        const bad = spawnSync(process.execPath, ['dist/cli.js', 'collect', '--pids', '1,x'], { encoding: 'utf8' });
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /--pids must be a positive integer, got "x"/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  } finally {
    lab.cleanup();
  }
});

// nft -j (1.0.6) leaves the devices of netdev chains out; the collector then records `nft list
// ruleset` too, and the engine reads the devices from it. A node netns with an egress chain on
// eth0, an ingress chain on two devices, and an egress chain whose rule comment holds a newline
// and a line that looks like a type line (nft accepts it and prints it as two lines).
test('netdev chains: the text listing is recorded when nft -j leaves their devices out, and the engine decides with it (npnd netns)', { skip }, async (t) => {
  const lab = new NetnsLab('npnd-');
  try {
    lab.add('h', 'p');
    const [h, p] = ['h', 'p'].map((x) => lab.name(x));
    sh(`
      ip -n ${h} link add eth0 type veth peer name eth0 netns ${p}
      ip -n ${h} addr add 10.77.0.1/24 dev eth0
      ip -n ${p} addr add 10.77.0.2/24 dev eth0
      ip -n ${h} link set eth0 up
      ip -n ${p} link set eth0 up
      ip -n ${h} link set lo up
    `);
    const rules = [
      'table netdev nd {',
      '  chain eg { type filter hook egress device "eth0" priority 0; policy accept; udp dport 6001 drop; }',
      '  chain ing { type filter hook ingress devices = { "eth0", "lo" } priority 0; policy accept; udp dport 6002 drop; }',
      '  chain eg2 { type filter hook egress device "lo" priority 0; policy accept; udp dport 6003 counter comment "x',
      '\t\ttype filter hook egress device eth0 priority 0;"; }',
      '}',
    ].join('\n');
    execFileSync('ip', ['netns', 'exec', h, 'nft', '-f', '-'], { input: rules });
    const hostPid = await lab.sleeper('h');
    const podPid = await lab.sleeper('p');
    const dump = await runCollector({ hostPid, pids: [podPid] });
    assert.deepEqual(dump.collector.errors, []);
    const jsonHasDevices = JSON.stringify(dump.node.nftables).includes('"dev"');
    t.diagnostic(`nft -j ${jsonHasDevices ? 'names' : 'leaves out'} the devices of netdev chains`);
    if (jsonHasDevices) {
      assert.equal(dump.node.nftablesText, undefined, 'nft -j names the devices: no text listing');
      return;
    }
    assert.match(dump.node.nftablesText ?? '', /\ttype filter hook egress device "eth0" priority filter; policy accept;\n/);
    assert.equal(dump.netns[0].nftablesText, undefined, 'a netns without netdev chains: no text listing');

    // busybox's awk and tr (the collector pod's, on Alpine images) decide the same.
    if (haveTool('busybox')) {
      const dir = mkdtempSync(join(tmpdir(), 'npnd-path-'));
      try {
        for (const applet of ['awk', 'tr']) symlinkSync(spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(), join(dir, applet));
        const d = await runCollector({ hostPid, pids: [podPid], env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
        assert.deepEqual(d.collector.errors, []);
        assert.equal(d.node.nftablesText, dump.node.nftablesText, 'busybox awk: the same text recorded');
        assert.equal(d.netns[0].nftablesText, undefined);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    // `nft list ruleset` failing: a collector error like any tool's, the JSON still recorded.
    const fake = mkdtempSync(join(tmpdir(), 'npnd-nft-'));
    try {
      const nft = spawnSync('sh', ['-c', 'command -v nft'], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(fake, 'nft'), `#!/bin/sh\n[ "$1" = -j ] && exec ${nft} "$@"\necho 'nft: out of luck' >&2\nexit 3\n`, { mode: 0o755 });
      const d = await runCollector({ hostPid, pids: [podPid], env: { ...process.env, PATH: `${fake}:${process.env.PATH}` } });
      assert.deepEqual(d.collector.errors.map((e) => [e.tool, e.netns, e.exitCode, e.message]), [['nft list ruleset', d.node.id, 3, 'nft list ruleset: failed with exit code 3: nft: out of luck']]);
      assert.equal(d.node.nftablesText, undefined);
      assert.deepEqual(d.node.nftables, dump.node.nftables);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }

    const devices = (text?: string) => Object.fromEntries([...parseNftRuleset(dump.node.nftables, text).tables[0].chains.values()].map((c) => [c.name, c.base!.devices]));
    assert.deepEqual(devices(), { eg: [], ing: [], eg2: [] }, 'the JSON alone: no device known');
    // eg2's comment adds a second type line to its chain: its device stays unknown, the others are read.
    assert.deepEqual(devices(dump.node.nftablesText), { eg: ['eth0'], ing: ['eth0', 'lo'], eg2: [] });

    const udp = (dport: number) => ({ src: '10.77.0.1', sport: 40000, dst: '10.77.0.2', dport, protocol: 'udp' as const, mark: 0 });
    const withText = new NetNS(dump.node, 'npnd-h');
    const withoutText = new NetNS({ ...dump.node, nftablesText: undefined }, 'npnd-h');
    const dropped = walkSend(withText, udp(6001));
    assert.ok(dropped.findings.some((f) => f.check === 'nftables.drop' && f.level === SuspicionLevel.FATAL), JSON.stringify(dropped.findings.map((f) => f.check)));
    assert.deepEqual(dropped.exits, []);
    assert.ok(!dropped.findings.some((f) => f.undecided), 'decided: eg is on eth0, eg2 cannot drop it');
    const passed = walkSend(withText, udp(6000));
    assert.deepEqual(passed.exits.map((e) => [e.kind, e.kind === 'out' ? e.oif : '', Boolean(e.undecided)]), [['out', 'eth0', false]]);
    const unknown = walkSend(withoutText, udp(6001));
    assert.ok(unknown.findings.some((f) => f.undecided), 'without the text, eg may or may not be on eth0');
  } finally {
    lab.cleanup();
  }
});
