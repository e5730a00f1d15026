// The shape every `netpath` sub-command has, and the error that maps to exit code 2.

/** Bad input from the user (flags, files, names): printed on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface Command {
  /** Words after `netpath`, e.g. `['snapshot', 'assemble']`. */
  path: string[];
  summary: string;
  usage: string;
  /** Resolves to the exit code (0 = ran; 2 = bad input is thrown as UsageError). */
  run(args: string[], io: CliIO): Promise<number>;
}
