/**
 * Tasks run at once up to a bound, whose first failure is the caller's to throw. A task left to
 * reject on its own ended the process as an unhandled rejection: exit code 1 (which means
 * --fail-on), a stack trace, the run left "running" and its lock in place. That was a loose
 * file's write to a full disk (red team V, V-01), then a zip entry's.
 */
export class TasksInFlight {
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;
  private readonly bound: () => number;

  /** `bound`: how many may be in flight before `add` waits; asked again at each `add`. */
  constructor(bound: () => number) {
    this.bound = bound;
  }

  /** Follows `task`; waits while the bound is reached; throws the first failure of any task so far. */
  async add(task: Promise<void>): Promise<void> {
    this.pending.add(task);
    task.then(
      () => this.pending.delete(task),
      (error: unknown) => {
        this.pending.delete(task);
        this.failure ??= { error };
      },
    );
    if (this.pending.size >= this.bound()) await Promise.race(this.pending).catch(() => undefined);
    this.throwFailure();
  }

  /** Waits for every task, whatever each did: on the way out, when something else is already thrown. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
  }

  /** Waits for every task, then throws the first failure of any. */
  async done(): Promise<void> {
    await this.settled();
    this.throwFailure();
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}
