// The graph the layout worker lays out when it starts, before any request: ELK is GWT-compiled
// Java, and its first layout in a thread is mostly V8 compiling it (~190 ms against ~40 ms warm on
// the bench's pod → service path). A small result shaped like a real one (a pod → service path
// across two nodes: ports on both sides, NAT and route labels, reply links running back, a backend
// whose finding draws a decision line), laid out in both directions, compiles the code paths a
// real layout takes.
import { packet } from '../engine/model/packet';
import type { Link } from '../engine/model/link';
import type { WireNode, WireResult } from '../shared/severity';

const client = 'default/client';
const nodeA = 'node-a';
const nodeB = 'node-b';
const backends = ['default/web-0', 'default/web-1'];

function node(id: string, type: WireNode['type'], description: string, suspicions: WireNode['suspicions'] = []): WireNode {
  return { id, type, description, examined: true, actions: [], suspicions };
}

function link(id: string, type: Link['type'], source: string, destination: string, from: Record<string, string>, to: Record<string, string>, reply = false): Link {
  const p = reply ? packet({ src: '10.1.0.2', sport: 8080, dst: '10.0.0.2', reply: true }) : packet({ src: '10.0.0.2', dst: '10.96.0.10', dport: 80 });
  return { id, type, source, destination, packet: p, sourceAttributes: reply ? { ...from, direction: 'reply' } : from, destinationAttributes: to };
}

export function warmUpResult(): WireResult {
  const nodes = [
    node(client, 'pod', '10.0.0.2'),
    node(nodeA, 'node', '192.0.2.1'),
    node(nodeB, 'node', '192.0.2.2'),
    node(backends[0], 'pod', '10.1.0.2'),
    node(backends[1], 'pod', '10.1.0.3', [
      { level: 'CRITICAL', message: 'nothing listens on 8080', check: 'socket.not-listening', evidence: [{ kind: 'socket', text: 'no LISTEN socket on *:8080' }] },
    ]),
  ];
  const links: Link[] = [
    link(`veth:${client}->${nodeA}`, 'veth', client, nodeA, { if: 'eth0', route: 'default via 10.0.0.1 dev eth0' }, { if: 'veth1a2b' }),
    ...backends.flatMap((b, i) => [
      link(`infra:${nodeA}->${nodeB}#${i + 1}`, 'infra', nodeA, nodeB, { if: 'eth0', nat: `DNAT 10.96.0.10:80 -> 10.1.0.${i + 2}:8080 (PREROUTING KUBE-SEP-${i})` }, { if: 'eth0' }),
      link(`veth:${nodeB}->${b}`, 'veth', nodeB, b, { if: `veth${i}`, bridge: 'cni0' }, { if: 'eth0' }),
      link(`veth:${b}->${nodeB}`, 'veth', b, nodeB, { if: 'eth0' }, { if: `veth${i}` }, true),
      link(`infra:${nodeB}->${nodeA}#${i + 1}`, 'infra', nodeB, nodeA, { if: 'eth0' }, { if: 'eth0' }, true),
    ]),
    link(`veth:${nodeA}->${client}`, 'veth', nodeA, client, { if: 'veth1a2b', nat: 'conntrack: reply translated back to 10.96.0.10:80' }, { if: 'eth0' }, true),
  ];
  return {
    request: { src: client, dst: 'svc/default/web', port: 80, protocol: 'tcp' },
    source: { ip: '10.0.0.2', type: 'pod', port: 0, ref: client },
    destination: { ip: '10.96.0.10', type: 'service', port: 80, ref: 'default/web' },
    nodes,
    links,
    clusterSuspicions: [],
    unexamined: [],
    verdict: 'unknown',
  };
}
