/**
 * The one error catalogue of uwsgi-ts.
 *
 * Every error the product raises or logs carries a stable `UWSGI_ERR_*` code from
 * this table. The message of each instance names the option or input at fault and
 * echoes the bad value; the summary here is what docs/errors.md lists (a test checks
 * that the docs, this table and the exported type agree, both ways).
 */
export const ERROR_CATALOGUE = {
  // options and configuration
  UWSGI_ERR_UNKNOWN_OPTION: 'an option name is not known (the message names the closest known option)',
  UWSGI_ERR_OPTION_VALUE: 'an option has a malformed or out-of-range value',
  UWSGI_ERR_OPTION_MISSING_VALUE: 'an option that takes a value was given none',
  UWSGI_ERR_CONFIG_FILE: 'a configuration file (ini, yaml, json) cannot be read or parsed',
  UWSGI_ERR_CONFIG_SECTION: 'a configuration file lacks the requested section or object',
  UWSGI_ERR_NO_APP: 'no application module was given, or it exports no usable handler',
  UWSGI_ERR_APP_LOAD: 'the application module failed to load',
  // sockets
  UWSGI_ERR_BIND: 'a listening socket cannot be created or bound',
  UWSGI_ERR_ADDRESS: 'a socket address is malformed',
  // protocol input
  UWSGI_ERR_UWSGI_PACKET: 'a uwsgi-protocol packet is malformed',
  UWSGI_ERR_UWSGI_TOO_BIG: 'a uwsgi-protocol vars block exceeds --buffer-size',
  UWSGI_ERR_UWSGI_MODIFIER: 'a uwsgi-protocol packet asks for a modifier1 with no handler',
  UWSGI_ERR_HTTP_PARSE: 'an HTTP request is malformed (answered 400)',
  UWSGI_ERR_HTTP_HEADERS_TOO_LARGE: 'an HTTP request head exceeds --buffer-size (answered 431)',
  UWSGI_ERR_HTTP_TIMEOUT: 'an HTTP request head did not arrive in time (15 × --socket-timeout; answered 408)',
  UWSGI_ERR_BODY_TOO_LARGE: 'a request body exceeds --limit-post (answered 413)',
  UWSGI_ERR_BODY_READ: 'the client closed the connection or stalled past --socket-timeout while sending the request body',
  UWSGI_ERR_CLIENT_GONE: 'the client closed the connection while a response body was still streaming (a fetch app\'s body stream is cancelled with this error as the reason)',
  // workers and supervision
  UWSGI_ERR_WORKER_CRASH: 'a worker thread threw an uncaught exception or exited',
  UWSGI_ERR_HARAKIRI: 'a worker or mule stayed on one request or message longer than its harakiri limit',
  UWSGI_ERR_CONTROL_TIMEOUT: 'a control call between master and a thread did not answer in time',
  UWSGI_ERR_APP_ERROR: 'the application threw while handling a request (answered 500)',
  // sharedarea
  UWSGI_ERR_SHAREDAREA_ID: 'a sharedarea id does not exist',
  UWSGI_ERR_SHAREDAREA_RANGE: 'a sharedarea position or length is outside the area',
  UWSGI_ERR_SHAREDAREA_ARG: 'a sharedarea call got an argument of the wrong type or size',
  UWSGI_ERR_SHAREDAREA_FILE: 'a file-backed sharedarea cannot be read or written',
  UWSGI_ERR_SHAREDAREA_NOT_READY: 'the sharedarea API was called in a thread that has no areas',
  UWSGI_ERR_SHAREDAREA_LOCK: 'a sharedarea lock call would block the main thread, would deadlock its own thread, or releases a lock the thread does not hold',
  // native addon
  UWSGI_ERR_NATIVE: 'a native helper failed (the message names the call and errno)',
  // mules and farms
  UWSGI_ERR_MULE_SPEC: 'a --mule, --farm or --mules value is malformed or names a missing module or function',
  UWSGI_ERR_MULE_ID: 'a mule id or farm name does not exist',
  UWSGI_ERR_MULE_QUEUE_FULL: 'a mule or farm message queue is full',
  UWSGI_ERR_MULE_MSG_SIZE: 'a mule message is larger than --mule-msg-size',
  UWSGI_ERR_MULE_MSG_TYPE: 'a mule message holds a value that cannot travel (a function, a symbol, a cyclic object, a bigint beyond 64 bits)',
  UWSGI_ERR_NOT_IN_MULE: 'a mule-only API was called outside a mule',
  UWSGI_ERR_HOOK: 'a hook action is malformed or failed',
  // task farms (piscina pools)
  UWSGI_ERR_TASK_FARM: 'a --task-farm value is malformed or its module fails to load, or runInFarm names a task farm or function that does not exist',
  UWSGI_ERR_TASK_FARM_FULL: 'a task farm already holds as many tasks as its threads plus its queue= limit; the task was not queued',
  UWSGI_ERR_TASK_FAILED: 'a task threw, its task thread died, or its arguments or result cannot be structured-cloned',
  UWSGI_ERR_TASK_TIMEOUT: 'a runInFarm call did not settle within its timeoutMs',
  UWSGI_ERR_TASK_ABORTED: 'a runInFarm call was aborted by its AbortSignal',
  // runtime state
  UWSGI_ERR_STOPPED: 'the runtime was stopped while the call was pending',
} as const;

export type UwsgiErrorCode = keyof typeof ERROR_CATALOGUE;

export class UwsgiError extends Error {
  readonly code: UwsgiErrorCode;
  constructor(code: UwsgiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UwsgiError';
    this.code = code;
  }
}

export function isUwsgiError(e: unknown): e is UwsgiError {
  return e instanceof Error && typeof (e as unknown as { code?: unknown }).code === 'string' &&
    (e as unknown as { code: string }).code in ERROR_CATALOGUE;
}

/** Quote a user-supplied value for an error message, bounded in length. */
export function echo(value: unknown): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'symbol' || typeof value === 'function') s = String(value); // NaN, Infinity, Symbol(x): JSON says null/undefined
  else if (value instanceof Uint8Array) s = `<${value.length} bytes>`;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  if (s.length > 200) s = s.slice(0, 200) + '…';
  return JSON.stringify(s);
}
