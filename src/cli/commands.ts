// The command table: every `netpath` sub-command, in the order `--help` lists them.
import type { Command } from './command';
import { collectCommand } from './collect';

export const commands: Command[] = [
  collectCommand,
];
