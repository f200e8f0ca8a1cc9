/**
 * A bounded queue of native jobs: at most `running` at once (each already
 * uses every core, so more would only add memory), at most `queued` waiting;
 * past that a request is refused at once (503) rather than piling up.
 */
export class Busy extends Error {}

export class JobQueue {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly running: number, readonly queued: number) {}

  get depth(): number {
    return this.active + this.waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.running) {
      if (this.waiting.length >= this.queued) throw new Busy(`${this.active} jobs running and ${this.waiting.length} queued`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.active++;
    try {
      return await job();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
