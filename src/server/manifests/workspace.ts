// The workspace's Kubernetes manifests: every *.yaml / *.yml under the workspace folders (and the
// YAML documents open in the editor, whose unsaved text wins), indexed by kind, namespace and name
// so a finding's object is found in the file that declares it. Runs in the diagnosis worker: a
// large repository is walked and parsed off the server's main thread, and files are re-read only
// when their size or mtime changed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LineIndex, manifestObjects, type ManifestObject } from './yaml';

/** What the worker needs to find manifests: the folders to walk and the open documents. */
export interface ManifestScope {
  /** Workspace folder URIs (file scheme only; others are skipped). */
  roots: string[];
  /** Open YAML documents: their text replaces the file's. */
  open: { uri: string; text: string }[];
}

export interface ManifestFile {
  uri: string;
  text: string;
  lines: LineIndex;
  objects: ManifestObject[];
}

/** Directories never holding the user's manifests (or too large to walk). */
const skippedDirs = new Set(['node_modules', '.git', '.hg', '.svn', 'dist', 'out', '.vscode-test', '.cache']);
const maxFiles = 5000;
const maxFileBytes = 2 * 1024 * 1024;
const isYaml = (name: string) => /\.ya?ml$/i.test(name);

const parsed = new Map<string, { mtimeMs: number; size: number; file: ManifestFile }>();

function fileOf(uri: string, text: string): ManifestFile {
  return { uri, text, lines: new LineIndex(text), objects: manifestObjects(text) };
}

/** The YAML files under `dir`, depth first, without following symlinks (no loops, nothing outside). */
function walk(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (out.length >= maxFiles) return;
    if (e.isDirectory()) {
      if (!skippedDirs.has(e.name)) walk(join(dir, e.name), out);
    } else if (e.isFile() && isYaml(e.name)) {
      out.push(join(dir, e.name));
    }
  }
}

export function workspaceManifests(scope: ManifestScope): ManifestFile[] {
  const open = new Map(scope.open.map((d) => [d.uri, d.text]));
  const files: ManifestFile[] = [];
  const seen = new Set<string>();
  for (const root of scope.roots) {
    if (!root.startsWith('file:')) continue;
    const paths: string[] = [];
    walk(fileURLToPath(root), paths);
    for (const path of paths) {
      const uri = pathToFileURL(path).href;
      if (seen.has(uri)) continue;
      seen.add(uri);
      const text = open.get(uri);
      if (text !== undefined) {
        files.push(fileOf(uri, text));
        continue;
      }
      try {
        const st = statSync(path);
        if (st.size > maxFileBytes) continue;
        const cached = parsed.get(path);
        if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
          files.push(cached.file);
          continue;
        }
        const file = fileOf(uri, readFileSync(path, 'utf8'));
        parsed.set(path, { mtimeMs: st.mtimeMs, size: st.size, file });
        files.push(file);
      } catch {
        // unreadable: not a manifest we can show anything on
      }
    }
  }
  // Open documents outside the folders (or in none: a single file opened) count too.
  for (const [uri, text] of open) if (!seen.has(uri) && text.length <= maxFileBytes) files.push(fileOf(uri, text));
  return files.filter((f) => f.objects.length);
}
