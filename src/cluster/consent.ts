// Consent to create privileged collector pods, per cluster: an agreement covers one API server,
// one collector namespace and one collector image. The CLI remembers a `--yes` in a small file
// under the user's config directory (the VS Code extension keeps its own store, same key), and
// only for an image pinned by digest: a tag can be moved to other content after the user agreed.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ConsentScope {
  /** The API server URL (kubeconfig `server`). */
  server: string;
  namespace: string;
  image: string;
}

/** Remembered agreements (the CLI's file; absent in the server, where the extension asks). */
export interface ConsentRecords {
  /** Where the agreements are kept, for messages. */
  readonly location: string;
  has(s: ConsentScope): boolean;
  /** Images agreed to before for this server and namespace (to say "the image changed"). */
  images(server: string, namespace: string): string[];
  /** Throws when the record cannot be written (the caller reports it; the run goes on). */
  record(s: ConsentScope, context?: string): void;
}

/** `repo[:tag]@sha256:<64 hex>`: the content is fixed, so a remembered "yes" stays meaningful. */
export function isPinnedImage(image: string): boolean {
  return /^[^@\s]+@sha256:[0-9a-f]{64}$/.test(image);
}

/** The same cluster whatever the spelling of its URL (case of the host, default port, trailing slash). */
export function serverKey(server: string): string {
  try {
    const u = new URL(server);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server;
  }
}

export function consentKey(s: ConsentScope): string {
  return JSON.stringify([serverKey(s.server), s.namespace, s.image]);
}

/** NETPATH_CONSENT_FILE, else $XDG_CONFIG_HOME/netpath/consent.json, else ~/.config/netpath/consent.json. */
export function consentFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NETPATH_CONSENT_FILE) return env.NETPATH_CONSENT_FILE;
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'netpath', 'consent.json');
}

interface Agreement {
  server: string;
  namespace: string;
  image: string;
  context?: string;
  at: string;
}

interface FileShape {
  version: 1;
  agreements: Record<string, Agreement>;
}

export class ConsentFile implements ConsentRecords {
  constructor(readonly location: string = consentFilePath()) {}

  /** A missing, unreadable or foreign file holds no agreement (the user is asked again). */
  private read(): Record<string, Agreement> {
    try {
      const f = JSON.parse(readFileSync(this.location, 'utf8')) as Partial<FileShape>;
      if (f?.version !== 1 || typeof f.agreements !== 'object' || f.agreements === null || Array.isArray(f.agreements)) return {};
      return Object.fromEntries(Object.entries(f.agreements).filter(([, a]) => typeof a?.server === 'string' && typeof a.namespace === 'string' && typeof a.image === 'string'));
    } catch {
      return {};
    }
  }

  has(s: ConsentScope): boolean {
    return Object.hasOwn(this.read(), consentKey(s));
  }

  images(server: string, namespace: string): string[] {
    return Object.values(this.read()).filter((a) => serverKey(a.server) === serverKey(server) && a.namespace === namespace).map((a) => a.image);
  }

  record(s: ConsentScope, context?: string): void {
    const file: FileShape = { version: 1, agreements: { ...this.read(), [consentKey(s)]: { server: s.server, namespace: s.namespace, image: s.image, context, at: new Date().toISOString() } } };
    mkdirSync(dirname(this.location), { recursive: true, mode: 0o700 });
    // Whole file or nothing: two runs recording at once lose at most one record (then asked again).
    const tmp = `${this.location}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.location);
  }
}
