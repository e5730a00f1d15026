// Connecting the way kubectl does: `KubeConfig.loadFromDefault` (multi-file KUBECONFIG merged,
// else ~/.kube/config, else in-cluster), or one explicit file; then the chosen context. Auth
// (token, client certificates, exec plugins, OIDC) is whatever @kubernetes/client-node supports.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterInputError } from './errors';

export interface KubeconfigOptions {
  /** Explicit kubeconfig file (as `kubectl --kubeconfig`); default: KUBECONFIG, then ~/.kube/config. */
  kubeconfig?: string;
  /** Context name; default: the file's current-context. */
  context?: string;
}

export interface LoadedKubeconfig {
  kc: KubeConfig;
  context: string;
  server: string;
  /** Where the configuration came from, for messages. */
  source: string;
}

export function loadKubeconfig(o: KubeconfigOptions = {}): LoadedKubeconfig {
  const env = process.env;
  const kc = new KubeConfig();
  let source: string;
  try {
    if (o.kubeconfig !== undefined) {
      if (!existsSync(o.kubeconfig)) throw new ClusterInputError(`kubeconfig ${o.kubeconfig} does not exist`);
      kc.loadFromFile(o.kubeconfig);
      source = o.kubeconfig;
    } else if (env.KUBECONFIG) {
      const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '');
      const present = files.filter((f) => existsSync(f));
      // kubectl ignores missing entries of the list; all missing is an error worth naming.
      if (!present.length) throw new ClusterInputError(`none of the KUBECONFIG files exist: ${files.join(', ')}`);
      // As loadFromDefault merges them (first file's current-context wins), minus the missing ones.
      kc.loadFromFile(present[0]);
      for (const f of present.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, true);
      }
      source = `KUBECONFIG=${env.KUBECONFIG}`;
    } else {
      const home = join(env.HOME ?? homedir(), '.kube', 'config');
      const inCluster = env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
      // loadFromDefault falls back to http://localhost:8080 when nothing exists: say so instead.
      if (!existsSync(home) && !inCluster) throw new ClusterInputError(`no kubeconfig: ${home} does not exist and KUBECONFIG is not set (give --kubeconfig FILE)`);
      kc.loadFromDefault();
      source = existsSync(home) ? home : 'in-cluster service account';
    }
  } catch (e) {
    if (e instanceof ClusterInputError) throw e;
    throw new ClusterInputError(`cannot load kubeconfig${o.kubeconfig ? ` ${o.kubeconfig}` : ''}: ${(e as Error).message}`);
  }
  const names = kc.getContexts().map((c) => c.name);
  const context = o.context ?? kc.getCurrentContext();
  if (!context) throw new ClusterInputError(`${source} has no current-context; give --context (contexts: ${names.join(', ') || 'none'})`);
  if (!kc.getContextObject(context)) throw new ClusterInputError(`context "${context}" is not in ${source} (contexts: ${names.join(', ') || 'none'})`);
  kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new ClusterInputError(`context "${context}" in ${source} names no cluster with a server address`);
  return { kc, context, server: cluster.server, source };
}
