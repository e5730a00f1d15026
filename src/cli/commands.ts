// The command table: every `netpath` sub-command, in the order `--help` lists them.
import type { Command } from './command';
import { collectCommand } from './collect';
import { diagnoseCommand } from './diagnose';
import { snapshotAssembleCommand, snapshotDiffCommand, snapshotValidateCommand } from './snapshot';
import { snapshotCaptureCommand } from './capture';
import { matrixCommand } from './matrix';

export const commands: Command[] = [
  diagnoseCommand,
  matrixCommand,
  collectCommand,
  snapshotAssembleCommand,
  snapshotValidateCommand,
  snapshotCaptureCommand,
  snapshotDiffCommand,
];
