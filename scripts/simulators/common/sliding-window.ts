/** Timestamps of the requests inside a sliding window, for rate limits over a rolling interval. */
export class SlidingWindow {
  private stamps: number[] = [];
  private head = 0;

  count(now: number, windowMs: number): number {
    while (this.head < this.stamps.length && this.stamps[this.head] <= now - windowMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
    return this.stamps.length - this.head;
  }

  add(now: number): void {
    this.stamps.push(now);
  }

  /** The earliest request still inside the window, if any. */
  oldest(now: number, windowMs: number): number | undefined {
    return this.count(now, windowMs) > 0 ? this.stamps[this.head] : undefined;
  }
}
