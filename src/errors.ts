/**
 * Every error tiphub raises on purpose carries a code (documented in docs/errors.md; a test checks)
 * and says whether trying again can help. Messages never contain tip text, names or addresses:
 * they end up in logs, in BullMQ's failedReason in Redis and on operators' terminals.
 */
export const errorCodes = {
  TIPHUB_CONFIG_INVALID: { retryable: false, summary: 'The configuration (environment, YAML file or a data file under config/) is invalid.' },
  TIPHUB_SECRET_MISSING: { retryable: false, summary: 'No secret: TIPHUB_SECRET is unset and the case log exists without its key file.' },
  TIPHUB_SECRET_MISMATCH: { retryable: false, summary: 'The secret does not match the key-check value stored in the case log.' },
  TIPHUB_SEAL_INVALID: { retryable: false, summary: 'A sealed value could not be opened: wrong key, or altered.' },
  TIPHUB_MESSAGE_INVALID: { retryable: false, summary: 'A message failed validation against the InboundMessage schema.' },
  TIPHUB_INGEST_LINE_INVALID: { retryable: false, summary: 'A line of an ingest file is not a valid simulator message.' },
  TIPHUB_INGEST_FILE_UNREADABLE: { retryable: false, summary: 'The ingest file cannot be read.' },
  TIPHUB_MEDIA_UNREADABLE: { retryable: false, summary: 'A media file named by a message does not exist or cannot be read.' },
  TIPHUB_MEDIA_TOO_LARGE: { retryable: false, summary: 'A media file is larger than the configured limit.' },
  TIPHUB_CASELOG_LOCKED: { retryable: true, summary: 'The embedded case log is held by another process that offers no control socket.' },
  TIPHUB_CASELOG_UNAVAILABLE: { retryable: true, summary: 'The case log (PostgreSQL or PGlite) could not be reached.' },
  TIPHUB_CASELOG_WRITE_FAILED: { retryable: true, summary: 'A write to the case log failed; the transaction was rolled back.' },
  TIPHUB_CASELOG_CORRUPT: { retryable: false, summary: 'The case log failed verification (event chain, report content or counters).' },
  TIPHUB_REDIS_UNAVAILABLE: { retryable: true, summary: 'Redis could not be reached or started.' },
  TIPHUB_HUB_PROTOCOL: { retryable: false, summary: 'The control socket of the running hub answered something unexpected.' },
  TIPHUB_START_STOPPED: { retryable: false, summary: 'Asked to stop (SIGTERM or SIGINT) before it had finished starting: what it had opened was closed.' },
  TIPHUB_HUB_UNAVAILABLE: { retryable: true, summary: 'The running hub did not answer on its control socket.' },
  TIPHUB_UNKNOWN_OPERATION: { retryable: false, summary: 'The hub was asked for an operation it does not know.' },
  TIPHUB_ADAPTER_UNKNOWN: { retryable: false, summary: 'No adapter is registered for that channel.' },
  TIPHUB_SEND_FAILED: { retryable: true, summary: 'A message to an informant could not be delivered this time (network, platform error).' },
  TIPHUB_SEND_RATE_LIMITED: { retryable: true, summary: 'The platform asked us to slow down; the send is retried after the time it gave.' },
  TIPHUB_RECIPIENT_UNREACHABLE: { retryable: false, summary: 'The platform refused the recipient for good (blocked the bot, unknown address).' },
  TIPHUB_WINDOW_CLOSED: { retryable: false, summary: 'WhatsApp refused a free-form reply outside the 24 hours after the informant last wrote (error 131047): the informant must write first.' },
  TIPHUB_CHANNEL_NOT_LINKED: { retryable: true, summary: 'The channel\'s session is not linked or not ready (a WhatsApp Web login by QR code is pending); it is tried again once it is.' },
  TIPHUB_INFORMANT_UNREACHABLE: { retryable: false, summary: 'The informant cannot be written to: asked to stop, blocked by an operator, or unreachable.' },
  TIPHUB_CASE_NOT_FOUND: { retryable: false, summary: 'No case has that reference.' },
  TIPHUB_INFORMANT_NOT_FOUND: { retryable: false, summary: 'No informant has that pseudonym.' },
  TIPHUB_REPLY_AMBIGUOUS: { retryable: false, summary: 'The case has several informants: say which one (--informant, --report) or --all.' },
  TIPHUB_DASHBOARD_LOGIN: { retryable: false, summary: 'A dashboard request needs a session: log in first (the session ended, was revoked, or never was).' },
  TIPHUB_DASHBOARD_ORIGIN: { retryable: false, summary: "A state-changing dashboard request came from another origin than the dashboard's (Origin, Referer, Sec-Fetch-Site)." },
  TIPHUB_DASHBOARD_CSRF: { retryable: false, summary: "A state-changing dashboard request lacks its session's CSRF token (x-csrf-token or the form's _csrf): reload the page." },
  TIPHUB_DASHBOARD_FORBIDDEN: { retryable: false, summary: "The operator's role does not allow this dashboard action." },
  TIPHUB_DASHBOARD_INVALID: { retryable: false, summary: "A dashboard request failed validation against its route's schema, or names something that does not fit (a report of another case)." },
  TIPHUB_DASHBOARD_NOT_FOUND: { retryable: false, summary: 'No dashboard page, API route, operator or session has that name.' },
  TIPHUB_DASHBOARD_SELF: { retryable: false, summary: 'An admin cannot disable, reset or change the role of their own account.' },
  TIPHUB_DASHBOARD_LAST_ADMIN: { retryable: false, summary: 'The change would leave no enabled admin to manage the operators.' },
  TIPHUB_DASHBOARD_MEDIA_TYPE: { retryable: false, summary: "A media file's sniffed type is not on the allow-list for a thumbnail or for playing in the page; it can still be downloaded." },
  TIPHUB_DASHBOARD_MEDIA_RANGE: { retryable: false, summary: 'A byte range asked of a media file lies outside the file.' },
  TIPHUB_DASHBOARD_FAILED: { retryable: true, summary: 'The dashboard failed to answer a request (a fault on the server, logged there); trying again may help.' },
  TIPHUB_ALERT_UNDELIVERED: { retryable: true, summary: 'The alert webhook could not be reached or answered 5xx, 408 or 429; the alert is posted again with backoff.' },
  TIPHUB_ALERT_REJECTED: { retryable: false, summary: 'The alert webhook refused an alert for good (a 4xx answer other than 408 and 429): it is logged and not posted again.' },
  TIPHUB_BACKUP_KEY_WRONG: { retryable: false, summary: 'The secret or passphrase given does not open the backup archive (another secret made it, e.g. before a key rotation; or the wrong passphrase).' },
  TIPHUB_BACKUP_CORRUPT: { retryable: false, summary: 'The backup archive is not one, or is truncated, damaged or altered: nothing was restored.' },
  TIPHUB_BACKUP_VERSION: { retryable: false, summary: 'The backup archive was made by a newer tiphub (format or schema version) than this one.' },
  TIPHUB_BACKUP_WRITE_FAILED: { retryable: true, summary: 'The backup archive could not be written (disk full, the target gone, the reader closed): nothing was kept under its name; run it again.' },
  TIPHUB_BACKUP_PLACE_FAILED: { retryable: false, summary: 'The restore committed the case log but could not move all its files (media, key file) into the data directory: they are kept in the folder the message names.' },
  TIPHUB_BACKUP_TARGET_NOT_EMPTY: { retryable: false, summary: 'A restore goes only into an empty data directory and, on PostgreSQL, a schema without tables.' },
  TIPHUB_MEDIA_STORE_FAILED: { retryable: true, summary: "The media store (the data directory's media folder) could not be written: replaced by a file, full or read-only. The media is fetched again later." },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class TiphubError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** When the other side said how long to wait (a platform's rate limit). */
  readonly retryAfterMs: number | null;
  override readonly name = 'TiphubError';

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? errorCodes[code].retryable;
    this.retryAfterMs = opts.retryAfterMs ?? null;
  }
}

export function isTiphubError(err: unknown, code?: ErrorCode): err is TiphubError {
  return err instanceof TiphubError && (code === undefined || err.code === code);
}

/**
 * A description of a foreign error that is safe to log or store: its class, code and SQLSTATE,
 * never its message (PostgreSQL and JSON.parse quote the offending values in theirs).
 */
export function describeForeignError(err: unknown): string {
  if (err instanceof TiphubError) return `${err.code}: ${err.message}`;
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; code?: unknown };
    const name = typeof e.name === 'string' ? e.name : 'Error';
    const code = typeof e.code === 'string' || typeof e.code === 'number' ? ` ${String(e.code)}` : '';
    return `${name}${code}`;
  }
  return typeof err;
}
