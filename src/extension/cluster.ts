// Which live cluster the extension talks to: the kubeconfig and context the Kubernetes extension
// uses (its `configuration.v1_1` API: getKubeconfigPath, getCurrentContext when that version has
// it, the onDidChange* events), else the `netpath.kubeconfig` setting, else kubectl's default
// (KUBECONFIG, then ~/.kube/config). The extension only names the cluster; the server connects.
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import * as k8s from 'vscode-kubernetes-tools-api';
import type { ClusterSpec } from '../shared/protocol';

/** The parts of the Kubernetes extension's configuration API netpath uses (duck-typed: versions differ). */
export interface KubeConfiguration {
  getKubeconfigPath(): { pathType: 'host'; hostPath: string } | { pathType: 'wsl'; wslPath: string };
  getCurrentContext?(): string | undefined | null | Thenable<string | undefined | null>;
  onDidChangeKubeconfigPath?: vscode.Event<unknown>;
  onDidChangeContext?: vscode.Event<string | null>;
}

export interface ClusterLocation {
  /** Absent: KUBECONFIG, then ~/.kube/config (as kubectl). */
  kubeconfig?: string;
  /** Absent: the kubeconfig's current-context. */
  context?: string;
  /** How it was found, for the log and the pickers. */
  from: string;
}

let configurationPromise: Promise<KubeConfiguration | undefined> | undefined;

/** The Kubernetes extension's configuration API v1.1, or undefined when that extension is not there. */
export function kubeConfiguration(): Promise<KubeConfiguration | undefined> {
  configurationPromise ??= k8s.extension.configuration.v1_1.then((a) => (a.available ? (a.api as unknown as KubeConfiguration) : undefined), () => undefined);
  return configurationPromise;
}

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

/**
 * Where the live cluster is. The `netpath.kubeconfig` setting wins (its own current-context: the
 * Kubernetes extension's context may not exist in that file); then the Kubernetes extension's
 * path and context (`lastContext`: the last onDidChangeContext value, for API versions without
 * getCurrentContext); then kubectl's default.
 */
export async function locateCluster(setting: string, api: KubeConfiguration | undefined, lastContext?: string): Promise<ClusterLocation> {
  if (setting.trim()) return { kubeconfig: expandHome(setting.trim()), from: 'setting netpath.kubeconfig' };
  if (api) {
    const p = api.getKubeconfigPath();
    if (p.pathType === 'host') {
      const ctx = (await api.getCurrentContext?.()) ?? lastContext ?? undefined;
      return { kubeconfig: p.hostPath || undefined, context: ctx || undefined, from: 'the Kubernetes extension' };
    }
    // A WSL path is not readable from this process: fall back to the default and say why.
    return { from: `KUBECONFIG or ~/.kube/config (the Kubernetes extension's kubeconfig is in WSL: ${p.wslPath})` };
  }
  return { from: 'KUBECONFIG or ~/.kube/config' };
}

export function clusterSpec(loc: ClusterLocation): ClusterSpec {
  const s: ClusterSpec = { kind: 'cluster' };
  if (loc.kubeconfig) s.kubeconfig = loc.kubeconfig;
  if (loc.context) s.context = loc.context;
  return s;
}

export function clusterLabel(s: ClusterSpec): string {
  return `${s.context ?? 'current context'} (live)`;
}

/** Follows the Kubernetes extension: its context switches and kubeconfig changes fire `onDidChange`. */
export class ClusterTracker implements vscode.Disposable {
  private lastContext?: string;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [this.changed];

  constructor(private readonly setting: () => string, private readonly api: () => Promise<KubeConfiguration | undefined> = kubeConfiguration) {
    void api().then((a) => {
      if (a?.onDidChangeContext) this.subs.push(a.onDidChangeContext((c) => ((this.lastContext = c ?? undefined), this.changed.fire())));
      if (a?.onDidChangeKubeconfigPath) this.subs.push(a.onDidChangeKubeconfigPath(() => this.changed.fire()));
    });
  }

  async locate(): Promise<ClusterLocation> {
    return locateCluster(this.setting(), await this.api(), this.lastContext);
  }

  /** True when the cluster comes from the Kubernetes extension (so its explorer shows this cluster). */
  async explorerPresent(): Promise<boolean> {
    return (await this.api()) !== undefined;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
