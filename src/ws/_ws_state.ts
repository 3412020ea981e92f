/**
 * Internal: the states of a WebSocket session (RFC 6455 §4, §7; the
 * browser's `readyState` values).
 *
 * @module
 */

/** Opening handshake in progress. */
export const CONNECTING = 0;
/** Open: messages flow both ways. */
export const OPEN = 1;
/** A close frame was sent or received; waiting for the other one or the TCP close. */
export const CLOSING = 2;
/** The TCP connection is closed. */
export const CLOSED = 3;

// Bits of `WebSocketConnection._flags` (one number instead of a field each).

/** Our close frame was sent. */
export const CLOSE_SENT = 1;
/** The application paused reading. */
export const USER_PAUSED = 2;
/** The messages stream paused reading (its queue is full). */
export const STREAM_PAUSED = 4;
/** Data moved since the idle sweep last looked. */
export const ACTIVE = 8;
/** Messages are delivered whole (`bufferMessage`). */
export const BUFFER = 16;
