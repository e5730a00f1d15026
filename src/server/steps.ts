// Work-done progress for one request: each step is reported (message + rough percentage) and is a
// cancellation point, so a cancelled request stops at the next step instead of running to the end.
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { CancelledError } from '../shared/errors';


export class Steps {
  private done = 0;
  readonly log: string[] = [];

  constructor(
    private readonly reporter: WorkDoneProgressReporter,
    readonly token: CancellationToken,
    /** Expected number of steps, for the percentage (a guess is fine: it is capped). */
    readonly expected: number,
  ) {}

  step(message: string): void {
    this.checkCancelled();
    this.log.push(message);
    this.reporter.report(Math.min(99, Math.round((this.done++ / this.expected) * 100)), message);
  }

  /** A progress message that is not a cancellation point: for callbacks (the collector's progress
   * events) that must not throw, e.g. while collector pods are being deleted after a cancel. */
  note(message: string): void {
    this.log.push(message);
    this.reporter.report(Math.min(99, Math.round((this.done++ / this.expected) * 100)), message);
  }

  checkCancelled(): void {
    if (this.token.isCancellationRequested) throw new CancelledError();
  }
}
