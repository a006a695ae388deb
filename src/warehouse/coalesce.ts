/**
 * Many callers' small requests served by one statement: while one statement is
 * on its way, requests made meanwhile wait and go together in the next. No
 * added delay when idle; under load one round trip and one commit for many.
 */

interface Waiting<Req, Res> {
  readonly request: Req;
  resolve(result: Res): void;
  reject(error: unknown): void;
}

export class Coalescer<Req, Res> {
  private waiting: Waiting<Req, Res>[] = [];
  private busy = false;

  /** `serve` answers every request, in order; at most `maxBatch` at once. */
  constructor(
    private readonly serve: (requests: readonly Req[]) => Promise<readonly Res[]>,
    private readonly maxBatch = 500,
  ) {}

  request(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (!this.busy) void this.next();
    });
  }

  private async next(): Promise<void> {
    this.busy = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.serve(batch.map((w) => w.request));
        batch.forEach((w, i) => w.resolve(results[i] as Res));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.busy = false;
  }
}
