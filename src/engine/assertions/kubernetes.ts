// KubernetesAssertion: what the API says about a NetNode that the datapath cannot see — a node that
// is not Ready or whose network is marked unavailable, a pod that is not running or whose containers
// are not ready (a Service skips it, a probe may be failing).
import { arr, rec, type ClusterNode, type ClusterPod } from '../k8s/objects';
import { SuspicionLevel, type Suspicion } from '../model/suspicion';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** The entries of a status list that are objects (a snapshot may hold `null` or anything there). */
function objectsIn(list: unknown): Record<string, unknown>[] {
  return arr(list).filter((x) => x !== null && typeof x === 'object' && !Array.isArray(x)) as Record<string, unknown>[];
}

function conditions(o: { [key: string]: unknown }): Condition[] {
  return objectsIn(rec(o.status).conditions) as Condition[];
}

function text(c: Condition): string {
  return `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`;
}

export function assertNode(node: ClusterNode): Suspicion[] {
  const out: Suspicion[] = [];
  const where = `node ${node.name}`;
  for (const c of conditions(node.object)) {
    if (c.type === 'Ready' && c.status !== 'True') {
      out.push({ level: SuspicionLevel.CRITICAL, check: 'node.not-ready', message: `node ${node.name} is not Ready (${c.status}${c.reason ? `, ${c.reason}` : ''}): its pods may have stale network state and new pods get none`, evidence: [{ kind: 'object', text: text(c), where }] });
    }
    if (c.type === 'NetworkUnavailable' && c.status === 'True') {
      out.push({ level: SuspicionLevel.CRITICAL, check: 'node.network-unavailable', message: `node ${node.name} reports NetworkUnavailable: the network plugin has not configured its routes`, evidence: [{ kind: 'object', text: text(c), where }] });
    }
  }
  return out;
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  state?: Record<string, { reason?: string; message?: string } | undefined>;
}

export function assertPod(pod: ClusterPod): Suspicion[] {
  const out: Suspicion[] = [];
  const where = `pod ${pod.key}`;
  if (pod.phase !== 'Running') {
    out.push({ level: SuspicionLevel.WARNING, check: 'pod.not-running', message: `pod ${pod.key} is ${pod.phase}, not Running`, evidence: [{ kind: 'object', text: `status.phase=${pod.phase}`, where }] });
  }
  if (pod.terminating) {
    out.push({ level: SuspicionLevel.WARNING, check: 'pod.terminating', message: `pod ${pod.key} is being deleted: services stop sending it new connections`, evidence: [{ kind: 'object', text: 'metadata.deletionTimestamp is set', where }] });
  }
  const statuses = objectsIn(rec(pod.object.status).containerStatuses) as ContainerStatus[];
  for (const cs of statuses) {
    if (cs.ready !== false) continue;
    const [state, raw] = Object.entries(rec(cs.state))[0] ?? ['unknown', undefined];
    const reason = rec(raw).reason;
    out.push({
      level: SuspicionLevel.WARNING,
      check: 'pod.container-not-ready',
      message: `container "${cs.name}" of pod ${pod.key} is not ready (${state}${typeof reason === 'string' && reason ? `: ${reason}` : ''}${cs.restartCount ? `, ${cs.restartCount} restarts` : ''}): services leave the pod out of their endpoints`,
      evidence: [{ kind: 'object', text: `containerStatuses[${cs.name}].ready=false`, where }],
    });
  }
  return out;
}
