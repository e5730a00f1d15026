// The NetworkPolicy semantics table (55 cases): shared by the policy evaluator's test and the
// policy-only connectivity matrix's test (which must agree with it pair by pair).
import type { PolicySettings } from '../../src/engine/policy/evaluate';
import type { K8sObject } from '../../src/engine/snapshot/types';
import { namespace, node, pod, policy, service, slice } from './k8s-objects';

export const base: K8sObject[] = [
  node('node1', '192.168.0.11'),
  node('node2', '192.168.0.12'),
  namespace('default'),
  namespace('prod', { env: 'prod', team: 'a' }),
  namespace('dev', { env: 'dev' }),
  // "ops" deliberately has no Namespace object: only its name label is known.
  pod('default/client', { ip: '10.244.1.2', node: 'node1', labels: { app: 'client' } }),
  pod('default/web', {
    ip: '10.244.2.3', node: 'node2', labels: { app: 'web' },
    ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }],
  }),
  pod('default/web-2', { ip: '10.244.1.3', node: 'node1', labels: { app: 'web', canary: 'yes' }, ports: [{ name: 'http', containerPort: 8080 }] }),
  pod('default/db', { ip: '10.244.2.4', node: 'node2', labels: { app: 'db' }, ports: [{ name: 'pg', containerPort: 5432 }] }),
  pod('prod/client', { ip: '10.244.1.20', node: 'node1', labels: { app: 'client' } }),
  pod('prod/web', { ip: '10.244.2.30', node: 'node2', labels: { app: 'web' } }),
  pod('dev/client', { ip: '10.244.1.30', node: 'node1', labels: { app: 'client' } }),
  pod('ops/tool', { ip: '10.244.1.40', node: 'node1', labels: { app: 'tool' } }),
  pod('kube-system/hostagent', { ip: '192.168.0.11', node: 'node1', hostNetwork: true, labels: { app: 'agent' } }),
  service('default/web-svc', { clusterIP: '10.96.0.80', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }),
  slice('default/web-svc-1', 'web-svc', [
    { ip: '10.244.2.3', node: 'node2', pod: 'default/web' },
    { ip: '10.244.1.3', node: 'node1', pod: 'default/web-2' },
  ], [{ name: 'http', port: 8080 }]),
  service('default/web-np', { type: 'NodePort', clusterIP: '10.96.0.81', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }] }),
  slice('default/web-np-1', 'web-np', [{ ip: '10.244.2.3', node: 'node2', pod: 'default/web' }], [{ name: 'http', port: 8080 }]),
];

const all = { podSelector: {} };
export const sel = (labels: Record<string, string>) => ({ matchLabels: labels });

export interface Case {
  name: string;
  policies: K8sObject[];
  src: string;
  dst: string;
  port: number;
  protocol?: string;
  settings?: PolicySettings;
  /** Per target (a service has several): [egress, ingress]; undefined = not evaluated (not a pod). */
  want: [boolean | undefined, boolean | undefined][];
  /** Policies named as evidence in the deny suspicions, sorted. */
  evidence?: string[];
  reason?: RegExp;
}

export const cases: Case[] = [
  { name: 'no policy: allowed both ways', policies: [], src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]] },
  {
    name: 'default-deny ingress',
    policies: [policy('default/deny-in', { ...all, policyTypes: ['Ingress'] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/deny-in'], reason: /no ingress rules: it denies all ingress/,
  },
  {
    name: 'default-deny egress',
    policies: [policy('default/deny-out', { ...all, policyTypes: ['Egress'] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[false, true]], evidence: ['default/deny-out'],
  },
  {
    name: 'policyTypes absent, no rules: Ingress only',
    policies: [policy('default/implicit', { ...all })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/implicit'],
  },
  {
    name: 'policyTypes absent, egress rules: Egress as well (egress side)',
    policies: [policy('default/client-out', { podSelector: sel({ app: 'client' }), egress: [{ to: [{ podSelector: sel({ app: 'db' }) }] }] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[false, true]], evidence: ['default/client-out'],
  },
  {
    name: 'policyTypes absent, egress rules: Ingress still implied (ingress side)',
    policies: [policy('default/client-out', { podSelector: sel({ app: 'client' }), egress: [{ to: [{ podSelector: sel({ app: 'db' }) }] }] })],
    src: 'default/web', dst: 'default/client', port: 80, want: [[true, false]], evidence: ['default/client-out'],
  },
  {
    name: 'bug (a) union: deny-all plus an allowing policy allows',
    policies: [
      policy('default/deny-in', { ...all, policyTypes: ['Ingress'] }),
      policy('default/allow-client', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'client' }) }] }] }),
    ],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]], reason: /allowed by default\/allow-client/,
  },
  {
    name: 'multiple selecting policies, none allows: all named',
    policies: [
      policy('default/deny-in', { ...all, policyTypes: ['Ingress'] }),
      policy('default/allow-db', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'db' }) }] }] }),
    ],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/allow-db', 'default/deny-in'],
    reason: /none of the 2 policies/,
  },
  {
    name: 'bug (b) empty peer list allows every source',
    policies: [policy('default/open', { podSelector: sel({ app: 'web' }), ingress: [{}] })],
    src: 'dev/client', dst: 'default/web', port: 1234, want: [[true, true]],
  },
  {
    name: 'bug (b) ports without from: any source on that port',
    policies: [policy('default/http', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 8080 }] }] })],
    src: '203.0.113.5', dst: 'default/web', port: 8080, want: [[undefined, true]],
  },
  {
    name: 'bug (c) ingress port is matched against the destination port (allowed)',
    policies: [policy('default/p', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'client' }) }], ports: [{ protocol: 'TCP', port: 8080 }] }] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'bug (c) ingress port is matched against the destination port (denied)',
    policies: [policy('default/p', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'client' }) }], ports: [{ protocol: 'TCP', port: 8080 }] }] })],
    src: 'default/client', dst: 'default/web', port: 9090, want: [[true, false]], evidence: ['default/p'], reason: /default\/p, the only policy selecting default\/web for ingress, does not allow it/,
  },
  {
    name: 'bug (d) namespaceSelector reads the source pod\'s namespace (prod matches)',
    policies: [policy('default/from-prod', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }) }] }] })],
    src: 'prod/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'bug (d) namespaceSelector reads the source pod\'s namespace (dev does not)',
    policies: [policy('default/from-prod', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }) }] }] })],
    src: 'dev/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/from-prod'],
  },
  {
    name: 'bug (e) namespaceSelector AND podSelector: both match',
    policies: [policy('default/and', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }), podSelector: sel({ app: 'client' }) }] }] })],
    src: 'prod/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'bug (e) namespaceSelector AND podSelector: right namespace, wrong pod',
    policies: [policy('default/and', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }), podSelector: sel({ app: 'client' }) }] }] })],
    src: 'prod/web', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/and'],
  },
  {
    name: 'bug (e) namespaceSelector AND podSelector: right pod, wrong namespace',
    policies: [policy('default/and', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }), podSelector: sel({ app: 'client' }) }] }] })],
    src: 'dev/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/and'],
  },
  {
    name: 'two peers are OR: podSelector alone is the policy namespace only',
    policies: [policy('default/or', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }) }, { podSelector: sel({ app: 'client' }) }] }] })],
    src: 'dev/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/or'],
  },
  {
    name: 'two peers are OR: the namespace peer admits any pod of prod',
    policies: [policy('default/or', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ env: 'prod' }) }, { podSelector: sel({ app: 'client' }) }] }] })],
    src: 'prod/web', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'empty namespaceSelector: every namespace',
    policies: [policy('default/any-ns', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: {} }] }] })],
    src: 'dev/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'namespace without object: kubernetes.io/metadata.name is implied',
    policies: [policy('default/from-ops', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ 'kubernetes.io/metadata.name': 'ops' }) }] }] })],
    src: 'ops/tool', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'namespace without object: other labels are unknown (denied, said so)',
    policies: [policy('default/team-a', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: sel({ team: 'a' }) }] }] })],
    src: 'ops/tool', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/team-a'], reason: /only policy/,
  },
  {
    name: 'policies of other namespaces do not apply',
    policies: [policy('prod/deny-all', { ...all, policyTypes: ['Ingress', 'Egress'] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'egress and ingress both deny: two findings',
    policies: [policy('default/deny-all', { ...all, policyTypes: ['Ingress', 'Egress'] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[false, false]], evidence: ['default/deny-all', 'default/deny-all'],
  },
  {
    name: 'named port on ingress, resolved on the destination pod',
    policies: [policy('default/named', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 'http' }] }] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'named port on ingress: another port is denied',
    policies: [policy('default/named', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 'http' }] }] })],
    src: 'default/client', dst: 'default/web', port: 9090, want: [[true, false]], evidence: ['default/named'],
  },
  {
    name: 'named port must match the protocol too',
    policies: [policy('default/named-udp', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 'dns', protocol: 'UDP' }] }] })],
    src: 'default/client', dst: 'default/web', port: 53, protocol: 'udp', want: [[true, true]],
  },
  {
    name: 'named port of the wrong protocol does not match',
    policies: [policy('default/named-udp', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 'http', protocol: 'UDP' }] }] })],
    src: 'default/client', dst: 'default/web', port: 8080, protocol: 'udp', want: [[true, false]], evidence: ['default/named-udp'],
  },
  {
    name: 'named port on egress, resolved on the destination pod (db has pg)',
    policies: [policy('default/out-pg', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'pg' }] }] })],
    src: 'default/client', dst: 'default/db', port: 5432, want: [[true, true]],
  },
  {
    name: 'named port on egress: a pod without that port name is denied',
    policies: [policy('default/out-pg', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'pg' }] }] })],
    src: 'default/client', dst: 'default/web', port: 5432, want: [[false, true]], evidence: ['default/out-pg'],
  },
  {
    name: 'named port on egress to a non-pod never matches',
    policies: [policy('default/out-pg', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 'pg' }] }] })],
    src: 'default/client', dst: '203.0.113.5', port: 5432, want: [[false, undefined]], evidence: ['default/out-pg'],
  },
  {
    name: 'endPort range includes the port',
    policies: [policy('default/range', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'endPort range excludes the port',
    policies: [policy('default/range', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }] })],
    src: 'default/client', dst: 'default/web', port: 8101, want: [[true, false]], evidence: ['default/range'],
  },
  {
    name: 'port protocol defaults to TCP (UDP denied)',
    policies: [policy('default/p53', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 53 }] }] })],
    src: 'default/client', dst: 'default/web', port: 53, protocol: 'udp', want: [[true, false]], evidence: ['default/p53'],
  },
  {
    name: 'port entry with protocol only: every port of it',
    policies: [policy('default/udp', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ protocol: 'UDP' }] }] })],
    src: 'default/client', dst: 'default/web', port: 5353, protocol: 'udp', want: [[true, true]],
  },
  {
    name: 'ICMP: a rule with ports does not match it',
    policies: [policy('default/tcp', { podSelector: sel({ app: 'web' }), ingress: [{ ports: [{ port: 8080 }] }] })],
    src: 'default/client', dst: 'default/web', port: 0, protocol: 'icmp', want: [[true, false]], evidence: ['default/tcp'],
  },
  {
    name: 'ICMP: a rule without ports matches it',
    policies: [policy('default/any', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: {} }] }] })],
    src: 'default/client', dst: 'default/web', port: 0, protocol: 'icmp', want: [[true, true]],
  },
  {
    name: 'ipBlock with except: outside the except is allowed',
    policies: [policy('default/out-net', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.5/32'] } }] }] })],
    src: 'default/client', dst: '203.0.113.6', port: 443, want: [[true, undefined]],
  },
  {
    name: 'ipBlock with except: the excepted address is denied',
    policies: [policy('default/out-net', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.5/32'] } }] }] })],
    src: 'default/client', dst: '203.0.113.5', port: 443, want: [[false, undefined]], evidence: ['default/out-net'], reason: /only policy/,
  },
  {
    name: 'ipBlock matches pod IPs (default setting)',
    policies: [policy('default/from-net', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24' } }] }] })],
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, true]],
  },
  {
    name: 'ipBlock does not match pod IPs when the setting says so',
    policies: [policy('default/from-net', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24' } }] }] })],
    settings: { ipBlockMatchesPods: false },
    src: 'default/client', dst: 'default/web', port: 8080, want: [[true, false]], evidence: ['default/from-net'],
  },
  {
    name: 'hostNetwork source is not a pod peer for selectors',
    policies: [policy('default/pods-only', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ namespaceSelector: {}, podSelector: {} }] }] })],
    src: 'kube-system/hostagent', dst: 'default/web', port: 8080, want: [[undefined, false]], evidence: ['default/pods-only'],
  },
  {
    name: 'hostNetwork source matches an ipBlock of node addresses',
    policies: [policy('default/nodes', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/24' } }] }] })],
    src: 'kube-system/hostagent', dst: 'default/web', port: 8080, want: [[undefined, true]],
  },
  {
    name: 'traffic from the pod\'s own node is always allowed',
    policies: [policy('default/deny-in', { ...all, policyTypes: ['Ingress'] })],
    src: 'node/node2', dst: 'default/web', port: 8080, want: [[undefined, true]], reason: /own node node2/,
  },
  {
    name: 'traffic from another node is subject to policy',
    policies: [policy('default/deny-in', { ...all, policyTypes: ['Ingress'] })],
    src: 'node/node1', dst: 'default/web', port: 8080, want: [[undefined, false]], evidence: ['default/deny-in'],
  },
  {
    name: 'a pod may always reach its own node',
    policies: [policy('default/deny-out', { ...all, policyTypes: ['Egress'] })],
    src: 'default/client', dst: 'node/node1', port: 10250, want: [[true, undefined]], reason: /own node node1/,
  },
  {
    name: 'another node is subject to egress policy',
    policies: [policy('default/deny-out', { ...all, policyTypes: ['Egress'] })],
    src: 'default/client', dst: 'node/node2', port: 10250, want: [[false, undefined]], evidence: ['default/deny-out'],
  },
  {
    name: 'NodePort (ETP Cluster): the backend sees the handling node, not the client (ipBlock of the client denies)',
    policies: [policy('default/from-net', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }] }] })],
    src: '203.0.113.5', dst: '192.168.0.11', port: 30080, want: [[undefined, false]], evidence: ['default/from-net'], reason: /ipBlock 203\.0\.113\.0\/24 does not contain 192\.168\.0\.11/,
  },
  {
    name: 'NodePort (ETP Cluster): an ipBlock of the node addresses admits it',
    policies: [policy('default/from-nodes', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/24' } }] }] })],
    src: '203.0.113.5', dst: '192.168.0.11', port: 30080, want: [[undefined, true]],
  },
  {
    name: 'NodePort on the backend\'s own node: node traffic, always allowed',
    policies: [policy('default/deny-in', { ...all, policyTypes: ['Ingress'] })],
    src: '203.0.113.5', dst: '192.168.0.12', port: 30080, want: [[undefined, true]], reason: /own node node2/,
  },
  {
    name: 'hostNetwork destination pods are never selected',
    policies: [policy('kube-system/deny-in', { ...all, policyTypes: ['Ingress'] })],
    src: 'default/client', dst: 'kube-system/hostagent', port: 9100, want: [[true, undefined]],
  },
  {
    name: 'a pod can always reach itself',
    policies: [policy('default/deny-all', { ...all, policyTypes: ['Ingress', 'Egress'] })],
    src: 'default/web', dst: 'default/web', port: 8080, want: [[true, true]], reason: /itself/,
  },
  {
    name: 'service: egress judged at the backends after DNAT (target port allowed)',
    policies: [policy('default/out-web', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: sel({ app: 'web' }) }], ports: [{ port: 8080 }] }] })],
    src: 'default/client', dst: 'svc/default/web-svc', port: 80, want: [[true, true], [true, true]],
  },
  {
    name: 'service: egress allowing only the service port denies every backend',
    policies: [policy('default/out-80', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ ports: [{ port: 80 }] }] })],
    src: 'default/client', dst: '10.96.0.80', port: 80, want: [[false, true], [false, true]], evidence: ['default/out-80', 'default/out-80'],
  },
  {
    name: 'service: ingress at each backend (only the canary denies)',
    policies: [policy('default/canary-closed', { podSelector: sel({ canary: 'yes' }), policyTypes: ['Ingress'] })],
    src: 'default/client', dst: 'svc/default/web-svc', port: 80, want: [[true, false], [true, true]], evidence: ['default/canary-closed'],
  },
];
