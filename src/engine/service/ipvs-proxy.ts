// kube-proxy in IPVS mode, checked against the Kubernetes objects: the service address must be on
// the dummy `kube-ipvs0` (else the packet is never local and IPVS never sees it), listed in the
// KUBE-CLUSTER-IP ipset (kube-proxy's iptables rules accept/masquerade by it), and have a virtual
// server whose real servers are exactly the ready endpoints.
import { formatAddressPort, type Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import { formatIP, parseIP, sameIP } from '../netstack/ip';
import { lookupIpvsService, parseIpvsadmSave, type IpvsService, type IpvsTable } from '../netstack/ipvs';
import type { NetNS } from '../netstack/netns';
import { ParseError } from '../netstack/parse-error';
import type { ServiceBackends } from './backends';
import { endpointKey } from './dnat-branches';

const tables = new WeakMap<NetNS, IpvsTable | ParseError | undefined>();

function ipvsTable(ns: NetNS): IpvsTable | ParseError | undefined {
  if (!tables.has(ns)) {
    const text = ns.info.ipvs;
    let t: IpvsTable | ParseError | undefined;
    if (typeof text === 'string') {
      try {
        t = text.trim() === '' ? { available: true, services: [] } : parseIpvsadmSave(text);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        t = e;
      }
    }
    tables.set(ns, t);
  }
  return tables.get(ns);
}

function serviceLine(s: IpvsService): string {
  const vip = s.vip ? formatAddressPort(formatIP(s.vip), s.port ?? 0) : `:${s.port}`;
  return s.kind === 'fwmark' ? `-A -f ${s.fwmark} -s ${s.scheduler}` : `-A ${s.proto === 'udp' ? '-u' : s.proto === 'sctp' ? '--sctp-service' : '-t'} ${vip} -s ${s.scheduler}`;
}

export function checkIpvsProxy(node: string, ns: NetNS, packet: Packet, sb: ServiceBackends): Suspicion[] {
  const out: Suspicion[] = [];
  const where = `${sb.service} ${packet.protocol.toUpperCase()} ${formatAddressPort(sb.address, packet.dport)}`;
  const dst = parseIP(packet.dst);
  if (!dst) return out;
  const table = ipvsTable(ns);
  if (table === undefined) {
    return [{ level: SuspicionLevel.INFO, check: 'dump.not-checked', message: `no IPVS table (ipvsadm -Sn) in the dump of ${node}: kube-proxy's virtual servers not checked`, evidence: [] }];
  }
  if (table instanceof ParseError) {
    return [{ level: SuspicionLevel.INFO, check: 'dump.not-checked', message: `the IPVS table of ${node} does not parse (${table.message}); not checked`, evidence: [] }];
  }
  if (!table.available) {
    return [{ level: SuspicionLevel.CRITICAL, check: 'kube-proxy.ipvs-unavailable', message: `kube-proxy runs in ipvs mode but IPVS is not available on ${node} (${table.reason}): no service is forwarded there`, evidence: [{ kind: 'ipvs', text: table.reason, where: node }] }];
  }
  const expected = new Map(sb.backends.map((b) => [endpointKey(b.ip, b.port), b]));

  // The address must be local for IPVS (a LOCAL_IN hook) to see the packet.
  if (sb.kind !== 'nodePort') {
    const dummy = ns.interface('kube-ipvs0');
    if (!dummy || !ns.ownsAddress(packet.dst)) {
      out.push({
        level: SuspicionLevel.FATAL,
        check: 'kube-proxy.ipvs-address-missing',
        message: `${sb.address} is not bound to kube-ipvs0 on ${node}: the packet for ${where} is not local, so IPVS never sees it`,
        evidence: [{ kind: 'interface', text: dummy ? `kube-ipvs0: ${dummy.addresses.map((a) => `${a.address}/${a.prefixLen}`).join(', ') || 'no addresses'}` : 'kube-ipvs0: not present', where: node }],
      });
    }
  }
  if (sb.kind === 'clusterIP') {
    const inSet = ns.ipsetTest('KUBE-CLUSTER-IP', ['dst', 'dst'], { src: dst, dst, proto: packet.protocol, dport: packet.dport });
    if (inSet === false || inSet === undefined) {
      out.push({
        level: SuspicionLevel.WARNING,
        check: 'kube-proxy.ipset-missing',
        message: `${sb.address},${packet.protocol}:${packet.dport} is not in ipset KUBE-CLUSTER-IP on ${node}${inSet === undefined ? ' (the set does not exist)' : ''}: kube-proxy's KUBE-SERVICES rules do not recognise ${where}`,
        evidence: [{ kind: 'ipset', text: `KUBE-CLUSTER-IP: no member ${sb.address},${packet.protocol}:${packet.dport}`, where: node }],
      });
    }
  }

  const svc = lookupIpvsService(table, { proto: packet.protocol, dst, dport: packet.dport, mark: packet.mark });
  if (!svc) {
    if (!expected.size) return out;
    const sameVip = table.services.filter((s) => s.vip && sameIP(s.vip, dst));
    out.push({
      level: SuspicionLevel.FATAL,
      check: 'kube-proxy.ipvs-service-missing',
      message: `no IPVS virtual server for ${where} on ${node}, though the service has ${expected.size} ready endpoint${expected.size > 1 ? 's' : ''}`,
      evidence: sameVip.length ? sameVip.map((s) => ({ kind: 'ipvs' as const, text: serviceLine(s), where: `${node} ipvsadm -Sn line ${s.line}` })) : [{ kind: 'ipvs', text: `no virtual server ${packet.protocol} ${formatAddressPort(sb.address, packet.dport)} among ${table.services.length}`, where: node }],
    });
    return out;
  }
  const svcEv: Evidence = { kind: 'ipvs', text: serviceLine(svc), where: `${node} ipvsadm -Sn line ${svc.line}` };
  const live = svc.reals.filter((r) => r.weight > 0);
  const totalWeight = live.reduce((a, r) => a + r.weight, 0);
  const reals = new Map(live.map((r) => [endpointKey(formatIP(r.ip), r.port), r]));
  for (const [k, r] of reals) {
    if (expected.has(k)) continue;
    out.push({
      level: SuspicionLevel.CRITICAL,
      check: 'kube-proxy.stale-endpoint',
      message: `IPVS on ${node} sends about ${Math.round((r.weight / totalWeight) * 100)}% of ${where} to real server ${k}, which is not a ready endpoint of the service`,
      evidence: [svcEv, { kind: 'ipvs', text: `-a ... -r ${k} -w ${r.weight}`, where: `${node} ipvsadm -Sn line ${r.line}` }],
    });
  }
  for (const [k, b] of expected) {
    if (reals.has(k)) continue;
    out.push({
      level: reals.size ? SuspicionLevel.WARNING : SuspicionLevel.FATAL,
      check: 'kube-proxy.missing-endpoint',
      message: `IPVS virtual server ${where} on ${node} has no real server ${k}${b.pod ? ` (pod ${b.pod})` : ''}${reals.size ? '' : ': it has no usable real server at all'}`,
      evidence: [svcEv, { kind: 'object', text: `${k} ready=${b.ready}`, where: `endpointslice ${b.slice}` }],
    });
  }
  if (svc.persistent !== undefined || sb.sessionAffinity) {
    out.push({ level: SuspicionLevel.INFO, check: 'kube-proxy.session-affinity', message: `${where}: IPVS persistence ${svc.persistent ?? 'off'}s, service sessionAffinity ${sb.sessionAffinity ? `ClientIP ${sb.sessionAffinity.timeoutSeconds}s` : 'None'}`, evidence: [svcEv] });
  }
  return out;
}
