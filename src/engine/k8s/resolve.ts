// Endpoint resolution: what the user typed (`ns/pod`, `svc/ns/name`, `node/name`, or an IP) to an
// Endpoint of the model. An IP is typed with the precedence pod → node → service (`lb` for a
// LoadBalancer's ingress IP or externalIP) → external. Only running, non-hostNetwork pods own an
// IP (a hostNetwork pod *is* its node on the network); a pod named explicitly resolves whatever
// its phase, with a note, as long as it has an IP.
import { BadInputError } from '../../shared/errors';
import { echoed } from '../../shared/display';
import type { Endpoint } from '../model/endpoint';
import { canonicalIP, parseIP, type Family } from '../netstack/ip';
import { isRunning, type ClusterCache, type ServiceAddress } from './cache';
import { type ClusterNode, type ClusterPod, type ClusterService } from './objects';

export interface ResolvedEndpoint {
  endpoint: Endpoint;
  /** What resolution decided that the user should know (phase, duplicate IP, hostNetwork …). */
  notes: string[];
  pod?: ClusterPod;
  node?: ClusterNode;
  service?: ClusterService;
}

/** The request names no usable endpoint: bad input of the request; the message names what was wrong. */
export class EndpointError extends BadInputError {
  override name = 'EndpointError';
  constructor(message: string) {
    super(message, 'request');
  }
}

export interface ResolveOptions {
  /** Destination port (Endpoint.port); 0 for a source. */
  port?: number;
  /** Address family to pick on dual-stack objects; default: IPv4 when the object has one. */
  family?: Family;
}

/** An end has no address of the family asked for (the pair then tries, or names, the other). */
export class FamilyError extends EndpointError {
  override name = 'FamilyError';
}

const forms = 'expected ns/pod, svc/ns/name, node/name or an IP address';

function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

function pick(ips: readonly string[], family: Family | undefined, what: string): string {
  if (!ips.length) throw new EndpointError(`${what} has no IP address`);
  if (family === undefined) return ips.find((ip) => familyOf(ip) === 4) ?? ips[0];
  const ip = ips.find((x) => familyOf(x) === family);
  if (!ip) throw new FamilyError(`${what} has no IPv${family} address (it has ${ips.join(', ')})`);
  return ip;
}

/** The node's address for a path: InternalIP first, then ExternalIP, then any. */
export function nodeIPs(n: ClusterNode): string[] {
  const rank = (t: string) => (t === 'InternalIP' ? 0 : t === 'ExternalIP' ? 1 : 2);
  return [...n.addresses].sort((a, b) => rank(a.type) - rank(b.type)).map((a) => a.address).filter((a, i, all) => all.indexOf(a) === i);
}

const maxEndpointLength = 330;

export function resolveEndpoint(cache: ClusterCache, text: string, opts: ResolveOptions = {}): ResolvedEndpoint {
  const port = opts.port ?? 0;
  const input = text.trim();
  if (input === '') throw new EndpointError(`empty endpoint (${forms})`);
  // Longer than any ns/pod-name (63 + 1 + 253) could be: say so without echoing all of it.
  if (input.length > maxEndpointLength) throw new EndpointError(`endpoint ${echoed(input)} is longer than any endpoint can be (${maxEndpointLength} characters)`);
  if (!input.includes('/')) return resolveIP(cache, input, port, opts.family);

  const parts = input.split('/');
  if (parts.some((p) => p === '')) throw new EndpointError(`"${input}" has an empty part (${forms})`);
  if (parts.length === 3 && parts[0] === 'svc') return resolveService(cache, `${parts[1]}/${parts[2]}`, port, opts.family);
  if (parts.length === 2 && parts[0] === 'node') {
    const node = cache.node(parts[1]);
    if (node) return nodeEndpoint(node, port, opts.family, []);
    // A namespace may be called "node": a pod there is the only other reading.
    const pod = cache.pod(input);
    if (pod) return podEndpoint(cache, pod, port, opts.family, [`no node ${parts[1]}; "${input}" taken as pod ${pod.key}`]);
    throw new EndpointError(`node ${parts[1]} not found`);
  }
  if (parts.length === 2) {
    const pod = cache.pod(input);
    if (!pod) {
      const svc = cache.service(input);
      throw new EndpointError(`pod ${input} not found${svc ? ` (a service has that name: use svc/${input})` : ''}`);
    }
    return podEndpoint(cache, pod, port, opts.family, []);
  }
  throw new EndpointError(`"${input}" is not an endpoint (${forms})`);
}

function podEndpoint(cache: ClusterCache, pod: ClusterPod, port: number, family: Family | undefined, notes: string[]): ResolvedEndpoint {
  if (!isRunning(pod)) notes.push(`pod ${pod.key} is ${pod.phase}, not Running`);
  if (pod.terminating) notes.push(`pod ${pod.key} is being deleted`);
  if (pod.hostNetwork) {
    // Its packets leave from the node's network namespace: on the path it is the node.
    const node = pod.nodeName ? cache.node(pod.nodeName) : undefined;
    if (!node) throw new EndpointError(`pod ${pod.key} uses the host network but its node ${pod.nodeName ?? '(not scheduled)'} is not known`);
    // status.podIPs of a hostNetwork pod are its node's; the node's own list has every family it has.
    const own = family === undefined ? pod.ips : pod.ips.filter((ip) => familyOf(ip) === family);
    const ip = own.length ? pick(own, family, `pod ${pod.key}`) : pick(nodeIPs(node), family, `pod ${pod.key} (host network of node ${node.name})`);
    notes.push(`pod ${pod.key} uses the host network: it is node ${node.name} on the path`);
    return { endpoint: { ip, type: 'node', port, ref: node.name }, notes, pod, node };
  }
  if (!pod.ips.length) throw new EndpointError(`pod ${pod.key} has no IP address (phase ${pod.phase})`);
  const ip = pick(pod.ips, family, `pod ${pod.key}`);
  const owners = cache.runningPodsWithIP(ip);
  if (owners.length > 1) notes.push(`IP ${ip} is also claimed by ${owners.filter((p) => p !== pod).map((p) => p.key).join(', ')}`);
  return { endpoint: { ip, type: 'pod', port, ref: pod.key }, notes, pod, ...(pod.nodeName && cache.node(pod.nodeName) ? { node: cache.node(pod.nodeName) } : {}) };
}

function nodeEndpoint(node: ClusterNode, port: number, family: Family | undefined, notes: string[], ip?: string): ResolvedEndpoint {
  return { endpoint: { ip: ip ?? pick(nodeIPs(node), family, `node ${node.name}`), type: 'node', port, ref: node.name }, notes, node };
}

function resolveService(cache: ClusterCache, key: string, port: number, family: Family | undefined): ResolvedEndpoint {
  const svc = cache.service(key);
  if (!svc) throw new EndpointError(`service ${key} not found`);
  if (svc.type === 'ExternalName') throw new EndpointError(`service ${key} is an ExternalName service (a DNS alias for ${svc.externalName ?? '?'}): it has no address to connect to`);
  if (svc.headless) throw new EndpointError(`service ${key} is headless (clusterIP: None): it has no service address; name one of its pods instead`);
  const notes: string[] = [];
  if (port && !svc.ports.some((p) => p.port === port)) {
    notes.push(`service ${key} has no port ${port} (ports: ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'none'})`);
  }
  return { endpoint: { ip: serviceIP(svc, family), type: 'service', port, ref: svc.key }, notes, service: svc };
}

/**
 * The service's cluster IP in a family: `spec.ipFamilies` says which families the service has
 * (a SingleStack IPv4 service has no IPv6 address whatever else is set), `clusterIPs` holds one
 * address per family in that order. Without a family: IPv4 when it has one.
 */
function serviceIP(svc: ClusterService, family: Family | undefined): string {
  const what = `service ${svc.key}`;
  const families = svc.ipFamilies;
  const stack = () => `ipFamilies ${families!.map((f) => `IPv${f}`).join(', ')}${svc.ipFamilyPolicy ? `, ipFamilyPolicy ${svc.ipFamilyPolicy}` : ''}`;
  const usable = families ? svc.clusterIPs.filter((ip) => families.includes(familyOf(ip))) : svc.clusterIPs;
  if (family !== undefined && families && !families.includes(family)) throw new FamilyError(`${what} has no IPv${family} address (${stack()})`);
  if (family !== undefined && families && !usable.some((ip) => familyOf(ip) === family)) {
    throw new FamilyError(`${what} lists IPv${family} in spec.ipFamilies but has no IPv${family} cluster IP (clusterIPs: ${svc.clusterIPs.join(', ') || 'none'})`);
  }
  return pick(usable, family, what);
}

function resolveIP(cache: ClusterCache, text: string, port: number, family: Family | undefined): ResolvedEndpoint {
  const ip = canonicalIP(text);
  if (!ip) throw new EndpointError(`"${text}" is not an IP address (${forms})`);
  if (family !== undefined && familyOf(ip) !== family) throw new EndpointError(`${ip} is IPv${familyOf(ip)} but the other endpoint is IPv${family}`);
  const notes: string[] = [];

  const pod = cache.podByIP(ip);
  const stale = cache.podsWithIP(ip).filter((p) => !p.hostNetwork && !cache.runningPodsWithIP(ip).includes(p));
  if (stale.length) notes.push(`IP ${ip} is recorded for ${stale.map((p) => `${p.key} (${p.phase})`).join(', ')}, which is not running; ignored`);
  if (pod) {
    const owners = cache.runningPodsWithIP(ip);
    if (owners.length > 1) notes.push(`IP ${ip} is claimed by several running pods (${owners.map((p) => p.key).join(', ')}); taken as ${pod.key}`);
    return { endpoint: { ip, type: 'pod', port, ref: pod.key }, notes, pod, ...(pod.nodeName && cache.node(pod.nodeName) ? { node: cache.node(pod.nodeName) } : {}) };
  }

  const node = cache.nodeByIP(ip);
  if (node) return nodeEndpoint(node, port, family, notes, ip);
  // A hostNetwork pod whose IP is not among its node's addresses: still the node's netns.
  const hostPod = cache.podsWithIP(ip).find((p) => p.hostNetwork && isRunning(p) && p.nodeName && cache.node(p.nodeName));
  if (hostPod) {
    notes.push(`IP ${ip} belongs to hostNetwork pod ${hostPod.key}: taken as its node ${hostPod.nodeName}`);
    return nodeEndpoint(cache.node(hostPod.nodeName!)!, port, family, notes, ip);
  }

  const owners = cache.servicesWithIP(ip);
  if (owners.length) {
    const chosen = chooseService(owners, port);
    if (owners.length > 1) notes.push(`IP ${ip} is shared by services ${[...new Set(owners.map((o) => o.service.key))].join(', ')}; taken as ${chosen.service.key}`);
    const lb = chosen.service.type === 'LoadBalancer' && chosen.kind !== 'clusterIP';
    return { endpoint: { ip, type: lb ? 'lb' : 'service', port, ref: chosen.service.key }, notes, service: chosen.service };
  }
  return { endpoint: { ip, type: 'external', port }, notes };
}

/** Services may share an externalIP/LB IP on different ports: the one serving the port wins. */
function chooseService(owners: readonly ServiceAddress[], port: number): ServiceAddress {
  return owners.find((o) => port && o.service.ports.some((p) => p.port === port)) ?? owners[0];
}

export interface ResolvedPair {
  source: ResolvedEndpoint;
  destination: ResolvedEndpoint;
  /** The family both ends were resolved in. */
  family: Family;
}

/**
 * Resolves source and destination in one address family: the one asked for; else the family of
 * an IP literal if one side is given as an IP; else IPv4 when both sides have it, else IPv6.
 */
export function resolvePair(cache: ClusterCache, src: string, dst: string, port: number, family?: Family): ResolvedPair {
  const literals = [src, dst].map((s) => parseIP(s.trim()));
  const typed = literals.find((ip) => ip !== undefined)?.family;
  const inFamily = (f: Family): ResolvedPair => ({ source: resolveEndpoint(cache, src, { family: f }), destination: resolveEndpoint(cache, dst, { port, family: f }), family: f });
  if (family !== undefined) {
    literals.forEach((ip, i) => {
      if (ip && ip.family !== family) throw new EndpointError(`the ${i ? 'destination' : 'source'} ${canonicalIP(i ? dst : src)} is an IPv${ip.family} address, but family IPv${family} was asked for`);
    });
    const pair = (['source', 'destination'] as const).map((side, i) => {
      try {
        return resolveEndpoint(cache, i ? dst : src, i ? { port, family } : { family });
      } catch (e) {
        if (e instanceof FamilyError) throw new FamilyError(`the ${side} ${echoed(i ? dst.trim() : src.trim())}: ${e.message}`);
        throw e;
      }
    });
    return { source: pair[0], destination: pair[1], family };
  }
  if (typed !== undefined) return inFamily(typed);
  let firstError: unknown;
  for (const f of [4, 6] as const) {
    try {
      return inFamily(f);
    } catch (e) {
      if (!(e instanceof FamilyError)) throw e;
      firstError ??= e;
    }
  }
  // Say what is wrong with each side on its own before blaming the families.
  const s = resolveEndpoint(cache, src);
  const d = resolveEndpoint(cache, dst, { port });
  throw new EndpointError(`${src} (${s.endpoint.ip}) and ${dst} (${d.endpoint.ip}) have no address family in common${firstError instanceof Error ? `: ${firstError.message}` : ''}`);
}

/**
 * The other family, when both ends were named (neither typed as an IP) and both have an address
 * of it too: the report says it exists and how to ask for it.
 */
export function otherFamily(cache: ClusterCache, src: string, dst: string, port: number, pair: ResolvedPair): Family | undefined {
  if (parseIP(src.trim()) || parseIP(dst.trim())) return undefined;
  const other: Family = pair.family === 4 ? 6 : 4;
  try {
    resolveEndpoint(cache, src, { family: other });
    resolveEndpoint(cache, dst, { port, family: other });
  } catch (e) {
    if (e instanceof FamilyError) return undefined;
    throw e;
  }
  return other;
}
