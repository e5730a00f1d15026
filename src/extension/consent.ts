// Consent before netpath creates anything in a cluster: the server refuses to create collector
// pods without it (ConsentRequiredError, with what it would create); the extension shows that in a
// modal dialog and remembers a "yes" per cluster, namespace and image (API server URL + namespace +
// image) in the global state, so later runs there go ahead without asking. A "yes" to an image
// pinned only by tag is not remembered: the tag could later name other content.
import * as vscode from 'vscode';
import type { ConsentDetails } from '../shared/protocol';

export const consentStateKey = 'netpath.consentedClusters';
export const agreeLabel = 'Create and Run';

interface Agreed {
  context?: string;
  namespace: string;
  at: string;
}

export function clusterKey(d: Pick<ConsentDetails, 'server' | 'context' | 'namespace' | 'image'>): string {
  return `${d.server ?? `context:${d.context ?? '?'}`}#${d.namespace}#${d.image}`;
}

export class ConsentStore {
  constructor(private readonly memento: vscode.Memento) {}

  private all(): Record<string, Agreed> {
    return this.memento.get<Record<string, Agreed>>(consentStateKey) ?? {};
  }
  has(d: ConsentDetails): boolean {
    return clusterKey(d) in this.all();
  }
  async remember(d: ConsentDetails): Promise<void> {
    await this.memento.update(consentStateKey, { ...this.all(), [clusterKey(d)]: { context: d.context, namespace: d.namespace, at: new Date().toISOString() } });
  }
  async forget(d: ConsentDetails): Promise<void> {
    const all = this.all();
    delete all[clusterKey(d)];
    await this.memento.update(consentStateKey, all);
  }
}

/** The dialog's text: what will be created and the privileges it runs with. */
export function consentMessage(d: ConsentDetails): { message: string; detail: string } {
  const where = d.context ? `${d.context}${d.server ? ` (${d.server})` : ''}` : d.server ?? 'this cluster';
  return {
    message: `Network Path has not run in ${where} before. To read the nodes' network stacks it will create a namespace and privileged collector pods.`,
    detail: [
      `Namespace: ${d.namespace} (labels ${Object.entries(d.namespaceLabels).map(([k, v]) => `${k}=${v}`).join(', ')})`,
      `Pods: ${d.pod}`,
      'Privileges:',
      ...d.privileges.map((p) => `  • ${p}`),
      `Your permissions needed: ${d.permissions.join('; ')}`,
      d.imagePinned === false
        ? `Image: ${d.image} (not pinned by digest: your answer is not remembered)`
        : `Image: ${d.image}. Your answer is remembered for this cluster, namespace and image.`,
    ].join('\n'),
  };
}

export type Ask = (message: string, options: vscode.MessageOptions, ...items: string[]) => Thenable<string | undefined>;

/** True when the user agreed now or before; asks with a modal dialog otherwise. */
export async function obtainConsent(d: ConsentDetails, store: ConsentStore, ask: Ask = (m, o, ...items) => vscode.window.showWarningMessage(m, o, ...items)): Promise<boolean> {
  const rememberable = d.imagePinned !== false;
  if (rememberable && store.has(d)) return true;
  const { message, detail } = consentMessage(d);
  const answer = await ask(message, { modal: true, detail }, agreeLabel);
  if (answer !== agreeLabel) return false;
  if (rememberable) await store.remember(d);
  return true;
}
