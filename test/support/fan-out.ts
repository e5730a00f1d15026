// Synthetic diagnosis results with large fan-outs (a service's backends), shaped like the engine's:
// request links out, reply links (`direction: reply`) back, one veth per backend on the node.
import type { Link } from '../../src/engine/model/link';
import { packet } from '../../src/engine/model/packet';
import type { DiagnosisResult, ResultNode } from '../../src/engine/model/result';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import { toWireResult, type WireNode, type WireResult } from '../../src/shared/severity';

/** A service node fanning out to `n` backends (request and reply), backend #i faulty when bad(i). */
export function fanOut(n: number, bad: (i: number) => boolean): WireResult {
  return toWireResult(fanOutResult(n, bad));
}

function fanOutResult(n: number, bad: (i: number) => boolean): DiagnosisResult {
  const nodes: ResultNode[] = [
    { id: 'default/client', type: 'pod', description: '10.0.0.2', examined: true, actions: [], suspicions: [] },
    { id: 'node1', type: 'node', description: '192.0.2.1', examined: true, actions: [], suspicions: [] },
  ];
  const links: Link[] = [
    { id: 'veth:default/client->node1', type: 'veth', source: 'default/client', destination: 'node1', packet: packet({ src: '10.0.0.2', dst: '10.96.0.1', dport: 80 }), sourceAttributes: { if: 'eth0' }, destinationAttributes: { if: 'veth0' } },
  ];
  for (let i = 0; i < n; i++) {
    const id = `default/web-${String(i).padStart(3, '0')}`;
    const ip = `10.1.${i >> 8}.${i & 255}`;
    nodes.push({
      id,
      type: 'pod',
      description: ip,
      examined: true,
      actions: [],
      suspicions: bad(i) ? [{ level: SuspicionLevel.CRITICAL, message: 'no socket', check: 'socket.not-listening', evidence: [] }] : [],
    });
    links.push({ id: `veth:node1->${id}`, type: 'veth', source: 'node1', destination: id, packet: packet({ src: '10.0.0.2', dst: ip, dport: 8080 }), sourceAttributes: { if: `veth${i}`, nat: `DNAT 10.96.0.1:80 -> ${ip}:8080` }, destinationAttributes: { if: 'eth0' } });
    links.push({ id: `veth:${id}->node1`, type: 'veth', source: id, destination: 'node1', packet: packet({ src: ip, sport: 8080, dst: '10.0.0.2' }), sourceAttributes: { if: 'eth0', direction: 'reply' }, destinationAttributes: { if: `veth${i}` } });
  }
  return {
    request: { src: 'default/client', dst: 'svc/default/web', port: 80, protocol: 'tcp' },
    source: { ip: '10.0.0.2', type: 'pod', port: 0, ref: 'default/client' },
    destination: { ip: '10.96.0.1', type: 'service', port: 80, ref: 'default/web' },
    nodes,
    links,
    clusterSuspicions: [],
    unexamined: [],
    verdict: 'unreachable',
  };
}

/** Backends spread over nodes: client → node0 → `nodes` nodes (infra) → `perNode` pods each, with replies. */
export function spread(nodes: number, perNode: number): WireResult {
  const base = fanOut(0, () => false);
  const out: WireNode[] = [base.nodes[0], { ...base.nodes[1], id: 'node0' }];
  const links: Link[] = [{ ...base.links[0], id: 'veth:default/client->node0', destination: 'node0' }];
  const link = (id: string, type: Link['type'], source: string, destination: string, dst: string, reply = false): Link => ({
    id, type, source, destination, packet: packet({ src: reply ? dst : '10.0.0.2', dst: reply ? '10.0.0.2' : dst, dport: 8080 }),
    sourceAttributes: reply ? { if: 'eth0', direction: 'reply' } : { if: 'eth0' }, destinationAttributes: { if: 'eth0' },
  });
  for (let k = 0; k < nodes; k++) {
    const node = `node-${String(k + 1).padStart(3, '0')}`;
    out.push({ id: node, type: 'node', description: `192.0.2.${k + 1}`, examined: true, actions: [], suspicions: [] });
    for (let i = 0; i < perNode; i++) {
      const pod = `default/web-${k}-${i}`;
      const ip = `10.${k + 1}.0.${i + 2}`;
      out.push({ id: pod, type: 'pod', description: ip, examined: true, actions: [], suspicions: [] });
      links.push(link(`infra:node0->${node}#${i}`, 'infra', 'node0', node, ip), link(`veth:${node}->${pod}`, 'veth', node, pod, ip), link(`veth:${pod}->${node}`, 'veth', pod, node, ip, true));
    }
  }
  return { ...base, nodes: out, links };
}

