// The Kubernetes explorer (ms-kubernetes-tools.vscode-kubernetes-tools) integration: its
// right-click targets are resolved with the extension's public API
// (`clusterExplorer.v1_1.resolveCommandTarget`); badges.ts marks its nodes through the same API. That extension is optional: without it the
// commands still work from the palette, and a target already in the API's public shape is used
// as it is.
import * as k8s from 'vscode-kubernetes-tools-api';

export interface ExplorerTarget {
  kind: 'pod' | 'service';
  namespace: string;
  name: string;
  /** What the engine and the pickers understand: `ns/pod` or `svc/ns/name`. */
  endpoint: string;
}

type Resolver = { resolveCommandTarget(target?: unknown): unknown };

let explorerPromise: Promise<k8s.ClusterExplorerV1_1 | undefined> | undefined;

/** The Cluster Explorer API v1.1 (target resolution, node UI customizers), or undefined when the Kubernetes extension is not there. */
export function explorer(): Promise<k8s.ClusterExplorerV1_1 | undefined> {
  explorerPromise ??= k8s.extension.clusterExplorer.v1_1.then((api) => (api.available ? api.api : undefined), () => undefined);
  return explorerPromise;
}

/** A right-clicked explorer node → pod or service, or undefined when it is neither. */
export function targetOf(node: unknown): ExplorerTarget | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const n = node as { nodeType?: unknown; resourceKind?: { manifestKind?: unknown }; namespace?: unknown; name?: unknown };
  if (n.nodeType !== 'resource' || typeof n.name !== 'string') return undefined;
  const kind = n.resourceKind?.manifestKind;
  const namespace = typeof n.namespace === 'string' && n.namespace ? n.namespace : 'default';
  if (kind === 'Pod') return { kind: 'pod', namespace, name: n.name, endpoint: `${namespace}/${n.name}` };
  if (kind === 'Service') return { kind: 'service', namespace, name: n.name, endpoint: `svc/${namespace}/${n.name}` };
  return undefined;
}

export async function resolveExplorerTarget(commandTarget: unknown, api?: Resolver): Promise<ExplorerTarget | undefined> {
  const resolver = api ?? (await explorer());
  const resolved = resolver?.resolveCommandTarget(commandTarget);
  return targetOf(resolved ?? commandTarget);
}
