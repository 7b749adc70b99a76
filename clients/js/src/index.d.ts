// Type declarations of @cs-platform/chat-sdk (hand-written; the sources are plain ES modules).

export type ConnectionState = "connecting" | "open" | "reconnecting" | "offline";
export declare const States: Readonly<{ CONNECTING: "connecting"; OPEN: "open"; RECONNECTING: "reconnecting"; OFFLINE: "offline" }>;

export type ServerErrorCode =
  | "invalid_json" | "unknown_action" | "missing_field" | "empty_field" | "text_too_long" | "invalid_frame"
  | "forbidden" | "not_connected" | "not_found" | "nothing_to_rate" | "not_resolved" | "invalid_score";
export type ErrorCode = ServerErrorCode | "closed" | "timeout" | "server_error" | "token_unavailable" | (string & {});

export declare const ErrorCodes: Readonly<Record<string, ErrorCode>>;
export declare const PERMANENT_CODES: ReadonlySet<string>;
export declare const MAX_TEXT_CHARS: 4000;

export declare class ChatError extends Error {
  readonly name: "ChatError";
  readonly code: ErrorCode;
  readonly clientMsgId?: string;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, extra?: { clientMsgId?: string; details?: unknown });
  static fromFrame(frame: { code: string; message?: string; client_msg_id?: string; details?: unknown }): ChatError;
}
export declare function textLength(text: string): number;
/** Throws the ChatError the server would answer (`empty_field`, `text_too_long`). */
export declare function validateText(text: unknown): void;

export interface QuickReply { title: string; payload: string }
export interface Sender { type: "customer" | "bot" | "agent" | "system"; id: string; name?: string }
export interface Message {
  message_id: string;
  conversation_id: string;
  seq: number;
  ts: string;
  sender: Sender;
  channel: string;
  kind: "text" | "image" | "file" | "audio" | "video" | "location" | "postback" | "event" | "unsupported";
  text?: string;
  attachments?: Array<Record<string, unknown>>;
  client_msg_id?: string;
  meta?: {
    quick_replies?: QuickReply[];
    queue?: { position: number; estimated_wait_seconds: number };
    routing?: string;
    agent?: { name: string };
    csat?: { conversation_id: string; question: "csat" | "nps"; scale: [number, number] };
  };
}
export interface OutboxEntry { client_msg_id: string; text: string; created_at: number; [more: string]: unknown }
export interface QueueInfo { position: number; estimated_wait_seconds: number; conversation_id: string }
export interface Survey { question: "csat" | "nps"; min: number; max: number; conversation_id: string; message: Message }
export interface Rated { type: "rated"; conversation_id: string; score?: number; comment?: string; nps?: number; rated_ms: number }
export interface Escalation { type: "escalation"; status: "requested"; conversation_id: string }

export interface ClientEvents {
  state: { state: ConnectionState };
  open: Record<string, never>;
  close: { code: number; reason: string; status?: number };
  retry: { delayMs: number; attempt: number };
  /** A new message (deduplicated), with its index in `client.messages`. */
  message: { message: Message; index: number };
  quickReplies: { message: Message; quickReplies: QuickReply[] };
  queue: QueueInfo;
  agent: { state: "joined" | "left"; agent: { name: string } };
  survey: Survey;
  escalation: Escalation;
  rated: Rated;
  /** Your messages: `pending` (in the outbox), `sent` (acknowledged), `failed` (refused for good). */
  delivery: { client_msg_id: string; state: "pending" | "sent" | "failed" | string; text?: string; message?: Message; duplicate?: boolean; error?: ChatError };
  /** History is complete again after a (re)connect. */
  synced: { initial: boolean; durationMs: number; sinceCloseMs: number | null; messages: number };
  conversation: { conversationId: string; previous: string | null };
  identity: { customerId: string };
  outbox: { size: number; entries: OutboxEntry[] };
  pong: Record<string, never>;
  error: ChatError | Error;
  transportError: unknown;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}
export interface SocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(info: { code: number; reason: string; status?: number }): void;
  onError(error: unknown): void;
}
export interface Socket { send(text: string): void; close(code?: number, reason?: string): void }
export interface Transport { name: string; open(url: string, handlers: SocketHandlers): Socket }

export interface BackoffOptions { baseMs?: number; maxMs?: number; factor?: number; random?: () => number }

export interface ConnectOptions {
  /** `wss://<api>/<stage>` (locally `ws://127.0.0.1:8001`). */
  url: string;
  /** The customer JWT, or a function returning it (called again before every connection attempt). */
  token: string | (() => string | Promise<string>);
  /** `web` (default), `app` or `miniprogram`. */
  channel?: "web" | "app" | "miniprogram";
  /** Default: wx in a mini-program, else the global WebSocket (Node 20: nodeTransport()). */
  transport?: Transport;
  /** Where the outbox is persisted. Default: wx storage, else localStorage, else memory. */
  storage?: KeyValueStorage;
  /** Prefix of storage keys (default `cs-chat`); the customer id (token `sub`) is added. */
  storageKey?: string;
  historyLimit?: number;
  pingIntervalMs?: number;
  maxConnectionMs?: number;
  ackTimeoutMs?: number;
  requestTimeoutMs?: number;
  stableAfterMs?: number;
  backoff?: BackoffOptions;
}

export declare class ChatClient {
  constructor(options: ConnectOptions);
  readonly state: ConnectionState;
  readonly customerId: string | null;
  readonly conversationId: string | null;
  readonly syncedSeq: number;
  readonly hasMoreOlder: boolean;
  readonly queue: QueueInfo | null;
  readonly agent: { name: string } | null;
  readonly survey: Survey | null;
  /** Messages seen so far: each once, in order. */
  readonly messages: Message[];
  /** Your messages not acknowledged yet (persisted), oldest first. */
  readonly pending: OutboxEntry[];
  on<K extends keyof ClientEvents>(type: K, listener: (detail: ClientEvents[K]) => void): () => void;
  once<K extends keyof ClientEvents>(type: K, listener: (detail: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(type: K, listener: (detail: ClientEvents[K]) => void): void;
  connect(): Promise<void>;
  close(): void;
  reconnect(): void;
  /** Resolves with the stored message once acknowledged; rejects with a ChatError if refused. */
  send(text: string): Promise<Message>;
  choose(quickReply: QuickReply | string): Promise<Message>;
  requestHuman(options?: { reason?: string; language?: string }): Promise<Escalation>;
  rate(score: number, comment?: string, options?: { nps?: number; conversationId?: string }): Promise<Rated>;
  loadOlder(limit?: number): Promise<Message[]>;
}

export declare function connect(options: ConnectOptions): ChatClient;

/** Options of the shared connection machinery (what ChatClient and the agent console use). */
export interface ConnectionOptions {
  url: string;
  /** A JWT, or a function returning it (called again before every connection attempt). */
  token: string | (() => string | Promise<string>);
  /** Added to the URL after the token: `{channel: "web"}` (customers), `{as: "agent"}` (agents). */
  params?: Record<string, string>;
  transport?: Transport;
  backoff?: BackoffOptions;
  pingIntervalMs?: number;
  maxConnectionMs?: number;
  stableAfterMs?: number;
}
export interface ConnectionHooks {
  onToken?(token: string): void;
  onOpen?(): void;
  onFrame?(text: string): void;
  onClose?(info: { code?: number; reason?: string; status?: number; planned?: boolean }): void;
  /** The keep-alive tick; return true when it reconnected (no ping then). */
  onTick?(now: number): boolean | void;
}
export declare const CONNECTION_DEFAULTS: Readonly<{ pingIntervalMs: number; maxConnectionMs: number; stableAfterMs: number }>;
export declare function connectionUrl(url: string, token: string, params?: Record<string, string>): string;
export declare class Connection {
  constructor(options: ConnectionOptions, hooks?: ConnectionHooks, emit?: (type: string, detail: unknown) => void);
  readonly state: ConnectionState;
  readonly isOpen: boolean;
  readonly wanted: boolean;
  readonly id: number;
  readonly backoff: Backoff;
  start(): void;
  stop(code?: number, reason?: string): void;
  /** false when no socket is open (keep the frame for later). */
  send(frame: object): boolean;
  reconnect(): void;
}
export declare function tokenSubject(token: string): string | null;
export declare function surveyOf(message: Message): Survey | null;

export declare function backoffDelay(attempt: number, options?: BackoffOptions): number;
export declare class Backoff {
  constructor(options?: BackoffOptions);
  attempt: number;
  next(): number;
  reset(): void;
}

export declare class Outbox {
  constructor(storage: KeyValueStorage, key: string);
  add(entry: OutboxEntry): void;
  remove(clientMsgId: string): boolean;
  has(clientMsgId: string): boolean;
  get(clientMsgId: string): OutboxEntry | undefined;
  first(): OutboxEntry | undefined;
  list(): OutboxEntry[];
  readonly size: number;
}

export declare function compareMessages(a: Message, b: Message): number;
export declare class Timeline {
  readonly messages: Message[];
  /** Index of the added message, or -1 for a duplicate. */
  add(message: Message): number;
  has(messageId: string): boolean;
  readonly size: number;
  maxSeq(conversationId: string): number;
  minSeq(conversationId: string): number | null;
}

export declare function memoryStorage(): KeyValueStorage;
export declare function browserStorage(local?: Storage): KeyValueStorage;
export declare function wxStorage(wx: unknown): KeyValueStorage;
export declare function defaultStorage(): KeyValueStorage;
export declare function browserTransport(WebSocketImpl?: unknown): Transport;
export declare function wxTransport(wx: unknown): Transport;
export declare function defaultTransport(): Transport;
