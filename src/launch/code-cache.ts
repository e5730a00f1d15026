// Runs a bundle through V8's code cache. Node 20 has no compile cache of its own (22's
// `module.enableCompileCache`), so every cold `netpath diagnose` spent ~0.1 s of CPU compiling the
// bundle it had compiled the run before, and every diagnosis worker thread of the server ~0.1 s
// parsing its 5 MB. The build writes each cache once (scripts/build.mjs), with
// NETPATH_CODE_CACHE_OUT set: after a training run (the CLI: bytecode of every function that run
// compiled), or, with NETPATH_CODE_CACHE_COMPILE_ONLY too, right after compiling without running
// anything (the server and its layout worker: the script is then deserialized, not parsed).
//
// The cache is used only for the build it came from: the bundle's first line names its build
// (a random id), and the cache starts with the same line. V8 checks its own version and flags and
// rejects the data otherwise (then the bundle compiles as usual); it does not check the source
// beyond its length, hence the build id. The bundle runs as the launcher's own module (same
// `module`, `require`, `__filename`), so `require.main === module` and `new Worker(__filename)`
// behave as if the bundle were the entry file.
import { isAscii } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';

const buildLine = /^\/\* netpath-build ([0-9a-f-]+) \*\/\n/;

/** What became of the cache: used, rejected by V8 (another node), of another build, or absent. */
export type CacheUse = 'used' | 'rejected' | 'stale' | 'none';

export function runCachedBundle(bundle: string, cache: string, host: { module: NodeJS.Module; require: NodeJS.Require; filename: string; dirname: string }): CacheUse {
  // esbuild writes ASCII (it escapes the rest): read as such, the text needs no UTF-8 decoding.
  const bytes = readFileSync(bundle);
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const build = buildLine.exec(source)?.[0];
  let cachedData: Buffer | undefined;
  let use: CacheUse = 'none';
  if (build) {
    try {
      const data = readFileSync(cache);
      if (data.subarray(0, build.length).toString('latin1') === build) cachedData = data.subarray(build.length);
      else use = 'stale';
    } catch {
      // no cache (a watch build, or removed): compile as usual
    }
  }
  // The CommonJS wrapper, as node's loader applies it (line numbers stay those of the bundle).
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: bundle, cachedData });
  if (cachedData) use = script.cachedDataRejected ? 'rejected' : 'used';
  const out = process.env.NETPATH_CODE_CACHE_OUT;
  if (out && build && process.env.NETPATH_CODE_CACHE_COMPILE_ONLY) {
    writeFileSync(out, Buffer.concat([Buffer.from(build, 'latin1'), script.createCachedData()]));
    return use;
  }
  if (out && build) {
    delete process.env.NETPATH_CODE_CACHE_OUT; // not for child processes
    // At exit: the cache then holds what the run compiled, not only the top level.
    process.once('exit', () => writeFileSync(out, Buffer.concat([Buffer.from(build, 'latin1'), script.createCachedData()])));
  }
  (script.runInThisContext() as (...a: unknown[]) => void).call(host.module.exports, host.module.exports, host.require, host.module, host.filename, host.dirname);
  return use;
}
