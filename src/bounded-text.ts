// Text kept within a bound, however much arrives: the head and the tail, the cut marked with how much was left out.
// A step or a check on a machine stackcheck does not control may print without end (200 MB of a log); what is kept
// in memory and written to the run folder stays at most `head + tail` characters (plus the marker), and the full
// size is counted.

export class BoundedText {
  private head = '';
  private tail: string[] = [];
  private tailLength = 0;
  /** Characters received in all. */
  total = 0;

  constructor(
    private readonly headMax: number,
    private readonly tailMax: number,
  ) {}

  push(text: string): void {
    if (!text) return;
    this.total += text.length;
    if (this.head.length < this.headMax) {
      const room = this.headMax - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
      if (!text) return;
    }
    if (this.tailMax <= 0) return;
    this.tail.push(text.length > this.tailMax ? text.slice(-this.tailMax) : text);
    this.tailLength += Math.min(text.length, this.tailMax);
    // Drop whole chunks from the front while the rest still fills the tail; trim the first one otherwise.
    while (this.tailLength - (this.tail[0]?.length ?? 0) >= this.tailMax) this.tailLength -= this.tail.shift()?.length ?? 0;
    if (this.tailLength > this.tailMax && this.tail[0]) {
      const over = this.tailLength - this.tailMax;
      this.tail[0] = this.tail[0].slice(over);
      this.tailLength -= over;
    }
  }

  /** Characters left out between the head and the tail. */
  get cut(): number {
    return this.total - this.head.length - this.tailLength;
  }

  toString(): string {
    const tail = this.tail.join('');
    if (this.cut <= 0) return this.head + tail;
    return `${this.head}\n… [${this.cut} characters left out: ${this.total} in all; the first ${this.head.length} and the last ${tail.length} are kept] …\n${tail}`;
  }
}
