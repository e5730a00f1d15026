#!/usr/bin/env node
// Tiny TCP/UDP server and client run by the lab INSIDE a network namespace (`ip netns exec NS node
// probe-agent.cjs ...`). Plain CommonJS so it starts in ~40 ms without a TypeScript loader.
//   serve NAME tcp|udp PORT [HOST]              answer every connection/datagram with NAME; HOST `::`
//                                               is an IPv6-only socket (dual-stack pods run one per family)
//   probe tcp|udp HOST PORT TIMEOUT_MS [SIZE]   one attempt; prints one JSON line:
//     {"outcome":"reachable"|"refused"|"timeout"|"unreachable","errno":"E...","reply":"...","ms":N}
'use strict';
const net = require('node:net');
const dgram = require('node:dgram');

const [mode, ...args] = process.argv.slice(2);

// errno -> outcome class. EPERM/EACCES come from a local netfilter DROP/REJECT in OUTPUT; EHOSTUNREACH/
// ENETUNREACH from an ICMP unreachable, a failed ARP or a missing route; ECONNRESET from an RST.
function classify(code) {
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return 'refused';
  if (code === 'ETIMEDOUT') return 'timeout';
  return 'unreachable';
}

function serve(name, proto, port, host) {
  const p = Number(port);
  if (proto === 'tcp') {
    const srv = net.createServer((s) => { s.on('error', () => {}); s.end(name + '\n'); });
    srv.on('error', (e) => { console.error(`serve ${name} tcp/${p}: ${e.code}`); process.exit(2); });
    srv.listen({ port: p, host: host || '0.0.0.0', ipv6Only: host === '::' }, () => console.log('ready'));
  } else if (proto === 'udp') {
    const s = dgram.createSocket(host === '::' ? { type: 'udp6', ipv6Only: true } : 'udp4');
    s.on('message', (_m, r) => s.send(name, r.port, r.address));
    s.on('error', (e) => { console.error(`serve ${name} udp/${p}: ${e.code}`); process.exit(2); });
    s.bind(p, host || '0.0.0.0', () => console.log('ready'));
  } else { console.error(`unknown protocol ${proto}`); process.exit(2); }
}

function probe(proto, host, port, timeoutMs, size) {
  const t0 = Date.now();
  let done = false;
  const finish = (outcome, extra) => {
    if (done) return; done = true;
    process.stdout.write(JSON.stringify({ outcome, ...extra, ms: Date.now() - t0 }) + '\n');
    process.exit(0);
  };
  const timer = setTimeout(() => finish('timeout', {}), Number(timeoutMs));
  if (proto === 'tcp') {
    const s = net.connect({ host, port: Number(port) });
    let data = '';
    s.on('data', (b) => { data += b; });
    s.on('end', () => { clearTimeout(timer); finish('reachable', { reply: data.trim() }); });
    s.on('error', (e) => { clearTimeout(timer); finish(classify(e.code), { errno: e.code }); });
    if (size) s.on('connect', () => s.write(Buffer.alloc(Number(size), 0x61)));
  } else {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (m) => { clearTimeout(timer); finish('reachable', { reply: m.toString() }); });
    s.on('error', (e) => { clearTimeout(timer); finish(classify(e.code), { errno: e.code }); });
    // connect() so that ICMP errors (port/host unreachable) are reported on the socket
    // a failed connect (no route) is reported through 'error'; the callback may still run
    s.connect(Number(port), host, () => { try { s.send(Buffer.alloc(Number(size || 16), 0x61)); } catch { /* 'error' classifies */ } });
  }
}

if (mode === 'serve') serve(args[0], args[1], args[2], args[3]);
else if (mode === 'probe') probe(args[0], args[1], args[2], args[3] || 2000, args[4]);
else { console.error('usage: probe-agent.cjs serve NAME tcp|udp PORT [HOST] | probe tcp|udp HOST PORT TIMEOUT_MS [SIZE]'); process.exit(2); }
