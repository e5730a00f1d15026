// Typed views of the Kubernetes objects the engine reads, built from the snapshot's plain
// `K8sObject`s. Objects come from hand-written YAML as well as from the API, so every field is
// read defensively: a wrong type is treated as absent, never a TypeError later. IPs are stored
// in canonical text (RFC 5952 for IPv6) so that string comparison is address comparison.
import { canonicalIP, parsePrefix, formatPrefix, type Family } from '../netstack/ip';
import type { K8sObject } from '../snapshot/types';

export type Labels = Readonly<Record<string, string>>;
export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ContainerPort {
  container: string;
  /** Absent when the port is unnamed. */
  name?: string;
  port: number;
  protocol: L4Protocol;
}

export interface ClusterPod {
  /** `namespace/name` */
  key: string;
  namespace: string;
  name: string;
  labels: Labels;
  nodeName?: string;
  /** `status.phase`; `Unknown` when absent. */
  phase: string;
  hostNetwork: boolean;
  /** Canonical pod IPs (`status.podIP` and `status.podIPs`), sorted. */
  ips: string[];
  containerPorts: ContainerPort[];
  /** The `Ready` condition; undefined when the status has none. */
  ready?: boolean;
  /** `metadata.deletionTimestamp` is set. */
  terminating: boolean;
  object: K8sObject;
}

export interface NodeAddress {
  /** InternalIP, ExternalIP, Hostname, … */
  type: string;
  /** Canonical IP text. */
  address: string;
}

export interface ClusterNode {
  name: string;
  labels: Labels;
  /** Only the addresses that are IPs (Hostname/DNS entries are names, not addresses). */
  addresses: NodeAddress[];
  podCIDRs: string[];
  /** `spec.providerID`, '' when none. */
  providerID: string;
  /** The `Ready` condition; undefined when the status has none. */
  ready?: boolean;
  object: K8sObject;
}

export interface ServicePort {
  /** '' when unnamed (a single-port service may leave it out). */
  name: string;
  port: number;
  protocol: L4Protocol;
  /** Defaults to `port`, as the API server does. */
  targetPort: number | string;
  nodePort?: number;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ClusterService {
  key: string;
  namespace: string;
  name: string;
  type: ServiceType;
  /** Canonical cluster IPs (`clusterIPs`, else `clusterIP`), without `None`. */
  clusterIPs: string[];
  /** `clusterIP: None`. */
  headless: boolean;
  /**
   * `spec.ipFamilies` in the API server's order (the first is the primary family); absent on a
   * pre-dual-stack object (then the families are those of `clusterIPs`).
   */
  ipFamilies?: Family[];
  /** `spec.ipFamilyPolicy`: SingleStack, PreferDualStack or RequireDualStack (anything else: absent). */
  ipFamilyPolicy?: string;
  externalName?: string;
  externalIPs: string[];
  /** `status.loadBalancer.ingress[].ip` (hostname-only ingress entries are not addresses). */
  loadBalancerIPs: string[];
  /** Absent or empty: a selectorless service (endpoints managed by hand). */
  selector?: Labels;
  ports: ServicePort[];
  sessionAffinity: 'None' | 'ClientIP';
  /** Seconds; only for ClientIP affinity (default 10800, as the API server sets). */
  affinityTimeoutSeconds?: number;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  /** Canonical CIDRs. */
  loadBalancerSourceRanges: string[];
  object: K8sObject;
}

export interface SlicePort {
  name: string;
  /** Absent = "all ports" per the API (kube-proxy cannot use such an entry). */
  port?: number;
  protocol: L4Protocol;
}

export interface SliceEndpoint {
  /** Canonical addresses (FQDN slices keep the text). */
  addresses: string[];
  /** EndpointSlice API defaults: ready=nil and serving=nil mean true, terminating=nil means false. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: string; namespace: string; name: string };
}

export interface ClusterEndpointSlice {
  key: string;
  namespace: string;
  name: string;
  /** `kubernetes.io/service-name` label. */
  serviceName?: string;
  addressType: 'IPv4' | 'IPv6' | 'FQDN' | string;
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
  object: K8sObject;
}

export interface ClusterNamespace {
  name: string;
  /** The object's labels plus `kubernetes.io/metadata.name`, which the API server always sets. */
  labels: Labels;
  /** False when no Namespace object was in the snapshot (only the name label is known). */
  known: boolean;
}

export const serviceNameLabel = 'kubernetes.io/service-name';
export const namespaceNameLabel = 'kubernetes.io/metadata.name';

// ---- defensive field readers -------------------------------------------------------------

export function rec(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function int(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}
function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v))) if (typeof val === 'string') out[k] = val;
  return out;
}
function ips(values: unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    const ip = typeof v === 'string' ? canonicalIP(v) : undefined;
    if (ip) out.add(ip);
  }
  return [...out];
}
export function protocolOf(v: unknown): L4Protocol {
  const p = typeof v === 'string' ? v.toUpperCase() : 'TCP';
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}
function condition(status: Record<string, unknown>, type: string): boolean | undefined {
  for (const c of arr(status.conditions)) {
    const r = rec(c);
    if (r.type === type) return r.status === 'True';
  }
  return undefined;
}
function keyOf(o: K8sObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

// ---- readers -------------------------------------------------------------------------------

export function readPod(o: K8sObject): ClusterPod {
  const spec = rec(o.spec);
  const status = rec(o.status);
  const containerPorts: ContainerPort[] = [];
  for (const list of [spec.containers, spec.initContainers]) {
    // Sidecars (init containers with restartPolicy Always) serve too; plain init containers
    // rarely declare ports, so taking them all costs nothing.
    for (const c of arr(list)) {
      const cr = rec(c);
      for (const p of arr(cr.ports)) {
        const pr = rec(p);
        const port = int(pr.containerPort);
        if (port === undefined) continue;
        const name = str(pr.name);
        containerPorts.push({ container: str(cr.name) ?? '', ...(name ? { name } : {}), port, protocol: protocolOf(pr.protocol) });
      }
    }
  }
  const nodeName = str(spec.nodeName);
  return {
    key: keyOf(o),
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    labels: labelsOf(o.metadata.labels),
    ...(nodeName ? { nodeName } : {}),
    phase: str(status.phase) ?? 'Unknown',
    hostNetwork: spec.hostNetwork === true,
    ips: ips([status.podIP, ...arr(status.podIPs).map((p) => rec(p).ip)]).sort(),
    containerPorts,
    ready: condition(status, 'Ready'),
    terminating: o.metadata.deletionTimestamp !== undefined && o.metadata.deletionTimestamp !== null,
    object: o,
  };
}

/**
 * Without a colon only dotted-decimal IPv4 is an address: every node's `Hostname` entry is then
 * told apart here, without the IP parser's exception path (it showed in profiles at 5,000 nodes).
 */
function isDnsName(s: string): boolean {
  return !s.includes(':') && !/^[\d.]+$/.test(s);
}

export function readNode(o: K8sObject): ClusterNode {
  const spec = rec(o.spec);
  const status = rec(o.status);
  const addresses: NodeAddress[] = [];
  const seen = new Set<string>();
  for (const a of arr(status.addresses)) {
    const r = rec(a);
    const ip = typeof r.address === 'string' && !isDnsName(r.address) ? canonicalIP(r.address) : undefined;
    if (!ip || seen.has(`${r.type}\0${ip}`)) continue;
    seen.add(`${r.type}\0${ip}`);
    addresses.push({ type: str(r.type) ?? '', address: ip });
  }
  const cidrs = new Set<string>();
  for (const c of [spec.podCIDR, ...arr(spec.podCIDRs)]) {
    const p = typeof c === 'string' ? parsePrefix(c) : undefined;
    if (p && typeof c === 'string' && c.includes('/')) cidrs.add(formatPrefix(p));
  }
  return {
    name: o.metadata.name,
    labels: labelsOf(o.metadata.labels),
    addresses,
    podCIDRs: [...cidrs],
    providerID: str(spec.providerID) ?? '',
    ready: condition(status, 'Ready'),
    object: o,
  };
}

const serviceTypes = new Set(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);
const familyPolicies = new Set(['SingleStack', 'PreferDualStack', 'RequireDualStack']);

export function readService(o: K8sObject): ClusterService {
  const spec = rec(o.spec);
  const status = rec(o.status);
  const type = (serviceTypes.has(str(spec.type) ?? '') ? spec.type : 'ClusterIP') as ServiceType;
  const rawIPs = arr(spec.clusterIPs).length ? arr(spec.clusterIPs) : [spec.clusterIP];
  const headless = rawIPs.some((v) => v === 'None');
  const ports: ServicePort[] = [];
  for (const p of arr(spec.ports)) {
    const r = rec(p);
    const port = int(r.port);
    if (port === undefined) continue;
    const tp = r.targetPort;
    const targetPort = int(tp) ?? (typeof tp === 'string' && tp !== '' ? (/^\d+$/.test(tp) ? Number(tp) : tp) : port);
    const nodePort = int(r.nodePort);
    ports.push({ name: str(r.name) ?? '', port, protocol: protocolOf(r.protocol), targetPort, ...(nodePort ? { nodePort } : {}) });
  }
  const selector = labelsOf(spec.selector);
  const affinity = spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None';
  const timeout = int(rec(rec(spec.sessionAffinityConfig).clientIP).timeoutSeconds);
  const ranges: string[] = [];
  for (const r of arr(spec.loadBalancerSourceRanges)) {
    const p = typeof r === 'string' ? parsePrefix(r) : undefined;
    if (p) ranges.push(formatPrefix(p));
  }
  const externalName = str(spec.externalName);
  const families = arr(spec.ipFamilies).map((f) => (f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : undefined)).filter((f): f is Family => f !== undefined);
  // Only the API's own values: the text ends up in messages.
  const familyPolicy = familyPolicies.has(str(spec.ipFamilyPolicy) ?? '') ? str(spec.ipFamilyPolicy) : undefined;
  return {
    key: keyOf(o),
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    type,
    clusterIPs: headless ? [] : ips(rawIPs),
    headless,
    ...(families.length ? { ipFamilies: [...new Set(families)] } : {}),
    ...(familyPolicy ? { ipFamilyPolicy: familyPolicy } : {}),
    ...(type === 'ExternalName' && externalName ? { externalName } : {}),
    externalIPs: ips(arr(spec.externalIPs)),
    loadBalancerIPs: ips(arr(rec(status.loadBalancer).ingress).map((i) => rec(i).ip)),
    ...(Object.keys(selector).length ? { selector } : {}),
    ports,
    sessionAffinity: affinity,
    ...(affinity === 'ClientIP' ? { affinityTimeoutSeconds: timeout ?? 10800 } : {}),
    externalTrafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    loadBalancerSourceRanges: ranges,
    object: o,
  };
}

export function readEndpointSlice(o: K8sObject): ClusterEndpointSlice {
  const addressType = str(o.addressType) ?? 'IPv4';
  const ports: SlicePort[] = arr(o.ports).map((p) => {
    const r = rec(p);
    const port = int(r.port);
    return { name: str(r.name) ?? '', ...(port !== undefined ? { port } : {}), protocol: protocolOf(r.protocol) };
  });
  const endpoints: SliceEndpoint[] = [];
  for (const e of arr(o.endpoints)) {
    const r = rec(e);
    const c = rec(r.conditions);
    const addresses = arr(r.addresses)
      .filter((a): a is string => typeof a === 'string')
      .map((a) => (addressType === 'FQDN' ? a : canonicalIP(a) ?? a));
    if (!addresses.length) continue;
    const tr = rec(r.targetRef);
    const nodeName = str(r.nodeName);
    const zone = str(r.zone);
    endpoints.push({
      addresses,
      ready: c.ready !== false,
      serving: c.serving !== false,
      terminating: c.terminating === true,
      ...(nodeName ? { nodeName } : {}),
      ...(zone ? { zone } : {}),
      ...(typeof tr.name === 'string'
        ? { targetRef: { kind: str(tr.kind) ?? 'Pod', namespace: str(tr.namespace) ?? o.metadata.namespace ?? '', name: tr.name } }
        : {}),
    });
  }
  const serviceName = o.metadata.labels?.[serviceNameLabel];
  return {
    key: keyOf(o),
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    ...(typeof serviceName === 'string' ? { serviceName } : {}),
    addressType,
    ports,
    endpoints,
    object: o,
  };
}

export function readNamespace(o: K8sObject): ClusterNamespace {
  return { name: o.metadata.name, labels: { ...labelsOf(o.metadata.labels), [namespaceNameLabel]: o.metadata.name }, known: true };
}

/** A namespace the snapshot has no object for: only the label the API server would set is known. */
export function unknownNamespace(name: string): ClusterNamespace {
  return { name, labels: { [namespaceNameLabel]: name }, known: false };
}
