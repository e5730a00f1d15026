// NetworkPolicy (`networking.k8s.io/v1`) objects compiled once into a checked, typed form.
// Defaulting as the API server does it: policyTypes absent → Ingress, plus Egress when the
// policy has egress rules; port protocol TCP. Parts the API server would have rejected are
// recorded as problems and made to allow nothing (never to allow more than was written).
import type { K8sObject } from '../snapshot/types';
import { arr, protocolOf, rec, str, type L4Protocol } from '../k8s/objects';
import { compileSelector, SelectorError, type Selector } from '../k8s/selector';
import { formatPrefix, parsePrefix, type Prefix } from '../netstack/ip';

export type Direction = 'ingress' | 'egress';

export interface PolicyPort {
  protocol: L4Protocol;
  /** Absent: every port of the protocol. A string is a named container port. */
  port?: number | string;
  endPort?: number;
  text: string;
}

export type PolicyPeer =
  | {
      kind: 'selector';
      /** Absent: every pod (of the selected namespaces). */
      podSelector?: Selector;
      /** Absent: the policy's own namespace. */
      namespaceSelector?: Selector;
      text: string;
    }
  | { kind: 'ipBlock'; cidr: Prefix; except: Prefix[]; text: string }
  /** A peer that could not be read: it matches nothing. */
  | { kind: 'invalid'; text: string };

export interface PolicyRule {
  /** 1-based, as a reader counts the rules. */
  index: number;
  /** Absent (or empty in the object): all peers. */
  peers?: PolicyPeer[];
  /** Absent (or empty in the object): all ports. */
  ports?: PolicyPort[];
}

export interface CompiledPolicy {
  /** `namespace/name` */
  key: string;
  namespace: string;
  name: string;
  /** Undefined when the selector is malformed: the policy then selects no pod. */
  podSelector?: Selector;
  /** Present iff the direction is in (defaulted) `policyTypes`; an empty list denies all. */
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
  /** Effective policyTypes, for explanations. */
  policyTypes: Direction[];
  /** Why parts of the policy were ignored (each names the field). */
  problems: string[];
}

export function compilePolicy(o: K8sObject): CompiledPolicy {
  const spec = rec(o.spec);
  const namespace = o.metadata.namespace ?? 'default';
  const key = `${namespace}/${o.metadata.name}`;
  const problems: string[] = [];
  const selector = (raw: unknown, where: string): Selector | undefined => {
    try {
      return compileSelector(raw);
    } catch (e) {
      if (!(e instanceof SelectorError)) throw e;
      problems.push(`${where}: ${e.message}`);
      return undefined;
    }
  };
  const podSelector = spec.podSelector === undefined ? (problems.push('spec.podSelector is missing'), undefined) : selector(spec.podSelector, 'spec.podSelector');

  let types: Direction[];
  const rawTypes = arr(spec.policyTypes);
  if (rawTypes.length) {
    types = [];
    for (const t of rawTypes) {
      if (t === 'Ingress') types.push('ingress');
      else if (t === 'Egress') types.push('egress');
      else problems.push(`spec.policyTypes: ${JSON.stringify(t)} is not Ingress or Egress`);
    }
  } else {
    types = ['ingress'];
    if (arr(spec.egress).length) types.push('egress');
  }
  types = [...new Set(types)].sort();

  const rules = (dir: Direction): PolicyRule[] => {
    const peerField = dir === 'ingress' ? 'from' : 'to';
    return arr(spec[dir]).map((raw, i): PolicyRule => {
      const r = rec(raw);
      const where = `spec.${dir}[${i}]`;
      const rule: PolicyRule = { index: i + 1 };
      const peers = arr(r[peerField]);
      if (peers.length) rule.peers = peers.map((p, j) => compilePeer(p, `${where}.${peerField}[${j}]`, selector, problems));
      const ports = arr(r.ports);
      if (ports.length) rule.ports = ports.map((p, j) => compilePort(p, `${where}.ports[${j}]`, problems));
      return rule;
    });
  };

  return {
    key,
    namespace,
    name: o.metadata.name,
    ...(podSelector ? { podSelector } : {}),
    ...(types.includes('ingress') ? { ingress: rules('ingress') } : {}),
    ...(types.includes('egress') ? { egress: rules('egress') } : {}),
    policyTypes: types,
    problems,
  };
}

function compilePeer(raw: unknown, where: string, selector: (raw: unknown, where: string) => Selector | undefined, problems: string[]): PolicyPeer {
  const p = rec(raw);
  const has = (k: string) => p[k] !== undefined && p[k] !== null;
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      problems.push(`${where}: ipBlock cannot be combined with podSelector/namespaceSelector`);
      return { kind: 'invalid', text: `${where} (invalid)` };
    }
    const b = rec(p.ipBlock);
    const cidrText = str(b.cidr);
    const cidr = cidrText?.includes('/') ? parsePrefix(cidrText) : undefined;
    if (!cidr) {
      problems.push(`${where}.ipBlock.cidr ${JSON.stringify(b.cidr)} is not a CIDR`);
      return { kind: 'invalid', text: `${where} (invalid)` };
    }
    const except: Prefix[] = [];
    for (const [k, e] of arr(b.except).entries()) {
      const x = typeof e === 'string' && e.includes('/') ? parsePrefix(e) : undefined;
      if (!x || x.family !== cidr.family) {
        problems.push(`${where}.ipBlock.except[${k}] ${JSON.stringify(e)} is not a CIDR of the block's family`);
        // Dropping an except would allow more than written: the whole block matches nothing.
        return { kind: 'invalid', text: `${where} (invalid)` };
      }
      except.push(x);
    }
    const text = `ipBlock ${formatPrefix(cidr)}${except.length ? ` except ${except.map(formatPrefix).join(', ')}` : ''}`;
    return { kind: 'ipBlock', cidr, except, text };
  }
  if (!has('podSelector') && !has('namespaceSelector')) {
    problems.push(`${where}: a peer needs podSelector, namespaceSelector or ipBlock`);
    return { kind: 'invalid', text: `${where} (invalid)` };
  }
  const podSelector = has('podSelector') ? selector(p.podSelector, `${where}.podSelector`) : undefined;
  const namespaceSelector = has('namespaceSelector') ? selector(p.namespaceSelector, `${where}.namespaceSelector`) : undefined;
  if ((has('podSelector') && !podSelector) || (has('namespaceSelector') && !namespaceSelector)) return { kind: 'invalid', text: `${where} (invalid)` };
  const parts = [
    ...(namespaceSelector ? [`namespaceSelector ${namespaceSelector.text}`] : []),
    ...(podSelector ? [`podSelector ${podSelector.text}`] : []),
  ];
  return { kind: 'selector', ...(podSelector ? { podSelector } : {}), ...(namespaceSelector ? { namespaceSelector } : {}), text: parts.join(' AND ') };
}

function compilePort(raw: unknown, where: string, problems: string[]): PolicyPort {
  const p = rec(raw);
  const protocol = protocolOf(p.protocol);
  const out: PolicyPort = { protocol, text: '' };
  const port = p.port;
  if (typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535) out.port = port;
  else if (typeof port === 'string' && /^\d+$/.test(port)) out.port = Number(port);
  else if (typeof port === 'string' && port !== '') out.port = port;
  else if (port !== undefined && port !== null) problems.push(`${where}.port ${JSON.stringify(port)} is not a port number or name`);
  if (p.endPort !== undefined && p.endPort !== null) {
    if (typeof out.port !== 'number') problems.push(`${where}.endPort needs a numeric port`);
    else if (typeof p.endPort !== 'number' || !Number.isInteger(p.endPort) || p.endPort < out.port || p.endPort > 65535) problems.push(`${where}.endPort ${JSON.stringify(p.endPort)} is not a port >= ${out.port}`);
    else out.endPort = p.endPort;
  }
  const bad = problems.some((x) => x.startsWith(`${where}.`));
  out.text = bad ? `${where} (invalid)` : `${out.port === undefined ? 'any port' : out.endPort !== undefined ? `${out.port}-${out.endPort}` : out.port}/${protocol}`;
  if (bad) out.port = -1; // matches no port: an unreadable entry must not widen the rule
  return out;
}
