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

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  }

  // Mask known secret values and secret-looking patterns.
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(MASK);
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
