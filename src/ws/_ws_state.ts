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
