// `netpath` — the diagnosis engine from a terminal. Exit codes (contract): 0 = ran,
// 1 = internal failure, 2 = bad input (message on stderr).
import { commands } from './commands';
import { UsageError, type CliIO } from './command';
import { version } from '../shared/version';
import { echoed, shownLines } from '../shared/display';

const io: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

function overview(): string {
  const lines = [`netpath ${version} — why can't pod A reach pod or service B?`, '', 'Commands:'];
  const width = Math.max(0, ...commands.map((c) => c.path.join(' ').length));
  for (const c of commands) lines.push(`  netpath ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  if (commands.length === 0) lines.push('  (none yet)');
  lines.push('', 'Run `netpath <command> --help` for the options of a command.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], sink: CliIO = io): Promise<number> {
  // Stderr carries netpath's own lines with names, file names and flags in them: every control and
  // bidi character but those lines' breaks is escaped on the way to the terminal. (A name that could
  // add a line is escaped where the message is built, e.g. SnapshotError; the report on stdout by
  // its formatter.)
  const out: CliIO = { stdout: sink.stdout, stderr: (t) => sink.stderr(shownLines(t)) };
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out.stdout(overview());
    return 0;
  }
  if (argv[0] === '--version') {
    out.stdout(`${version}\n`);
    return 0;
  }
  // Longest matching command path wins (`snapshot assemble` before `snapshot`).
  const cmd = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((w, i) => argv[i] === w));
  if (!cmd) {
    out.stderr(`netpath: unknown command "${echoed(argv.join(' '))}"\n\n${overview()}`);
    return 2;
  }
  const rest = argv.slice(cmd.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    out.stdout(`${cmd.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      out.stderr(`netpath ${cmd.path.join(' ')}: ${e.message}\n`);
      return 2;
    }
    out.stderr(`netpath ${cmd.path.join(' ')}: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // A reader that stops early (`netpath matrix … | head`) is not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
