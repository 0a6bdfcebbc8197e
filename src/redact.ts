// Secret redaction: every artifact, log line and error passes through a Redactor owned by the run.

const MASK = '••••••';
// Things that look like secrets even when the inventory did not name them.
const PATTERNS: RegExp[] = [
  /(X-Auth-Token:\s*)(\S+)/gi,
  /(X-Subject-Token:\s*)(\S+)/gi,
  /(\b(?:password|passwd|pass|secret|token)\s*[=:]\s*)([^\s'";&]+)/gi,
  /(--(?:os-)?password[= ]+)(\S+)/gi,
  /(IDENTIFIED BY\s+)('[^']*'|"[^"]*")/gi,
  /(amqp|mysql\+pymysql|mysql|rabbit):\/\/([^:/@\s]+):([^@\s]+)@/gi,
];

// A terminal escape sequence (CSI, OSC, or a two-character one): a target may print one inside a secret
// (`Zq9x\e[31mK7vLmP2wRt\e[0m`), which the terminal then shows whole.
const ESCAPE = String.raw`(?:\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~])`;
const regexChar = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export class Redactor {
  private readonly secrets: string[];
  /** Each secret with escape sequences allowed between its characters (built when first needed). */
  private spread: RegExp[] | undefined;

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  }

  // Mask known secret values and secret-looking patterns.
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(MASK);
    // A secret split by escape sequences is masked whole (escapes and all).
    if (out.includes('\x1b') || out.includes('\x9b')) {
      this.spread ??= this.secrets.map((s) => new RegExp([...s].map(regexChar).join(`${ESCAPE}*`), 'g'));
      for (const re of this.spread) out = out.replace(re, MASK);
    }
    for (const re of PATTERNS) {
      out = out.replace(re, (m: string, ...g: unknown[]) => {
        if (re.source.startsWith('(amqp')) return `${String(g[0])}://${String(g[1])}:${MASK}@`;
        return `${String(g[0])}${MASK}`;
      });
    }
    return out;
  }

  /** A redactor that also knows these values. */
  with(extra: Iterable<string>): Redactor {
    return new Redactor([...this.secrets, ...extra]);
  }
}
