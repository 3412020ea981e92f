/**
 * Config("Name=Value") settings of the WsServer component (reference:
 * WSServer Config Settings). WebSocket settings are handled here; the TCP
 * ones (MaxConnections, AllowedClients, BlockedClients, KeepAliveTime,
 * TcpNoDelay, CodePage, ...) by the TCP component's helpers, over the same
 * TCP server.
 *
 * @module
 */

import type { WebSocketServer } from "../ws/ws_server.ts";
import { applyConfig, parseBool, readConfig } from "./_tcp_config.ts";
import type { TcpServer } from "./tcp_server.ts";

/** What the settings act on (the component's state). */
export interface WsConfigTarget {
  /** The library server. */
  readonly server: WebSocketServer;
  /** What the TCP helpers see: the TCP server, the code page decoder, TLS settings. */
  readonly tcp: Pick<TcpServer, "server" | "_decoder" | "_ssl">;
  /** DisconnectStatusCode. */
  disconnectCode: number;
  /** DisconnectStatusDescription. */
  disconnectDescription: string;
  /** LogLevel, 0-3. */
  logLevel: number;
  /** MessageLength[id]: bytes left of the message being sent in pieces. */
  messageLength: Map<string, number>;
}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`Cannot set ${name} as it must be an integer ${min}-${max}: current value is "${v}"`);
  }
  return n;
}

/** Splits `Name[index]` into the lower-cased name and the index. */
function parseName(setting: string): [string, string | undefined] {
  const m = /^\s*([A-Za-z0-9]+)\s*(?:\[\s*([^\]]*)\s*\])?\s*$/.exec(setting);
  if (!m) throw new TypeError(`Unknown config setting "${setting}"`);
  return [m[1]!.toLowerCase(), m[2]];
}

/** Applies one setting; throws `TypeError` for an unknown name, `RangeError` for a bad value. */
export function applyWsConfig(c: WsConfigTarget, setting: string, value: string): void {
  const [name, index] = parseName(setting);
  const s = c.server;
  switch (name) {
    case "buffermessage":
      return s.set({ bufferMessage: parseBool(setting, value) });
    case "disconnectstatuscode":
      c.disconnectCode = int(setting, value, 1000, 4999);
      return;
    case "disconnectstatusdescription":
      c.disconnectDescription = value;
      return;
    case "maxframesize":
      return s.set({ maxFrameSize: int(setting, value, 1, 2 ** 31) });
    case "maxlinelength": {
      const n = int(setting, value, 256, 2 ** 31);
      if (index === undefined) return s.set({ maxLineLength: n });
      s.get(index).maxLineLength = n;
      return;
    }
    case "messagelength": {
      if (index === undefined) throw new TypeError("Cannot set MessageLength without a connection id: MessageLength[id]=N");
      s.get(index);
      c.messageLength.set(index, int(setting, value, 0, Number.MAX_SAFE_INTEGER));
      return;
    }
    case "waitforcloseresponse":
      return s.set({ waitForCloseResponse: parseBool(setting, value) });
    // permessage-deflate (RFC 7692); new connections negotiate with the new policy.
    case "enablepermessagedeflate":
      return s.set({ perMessageDeflate: parseBool(setting, value) });
    case "permessagedeflatethreshold":
      return s.set({
        perMessageDeflate: {
          threshold: value.trim().toLowerCase() === "auto" ? undefined : int(setting, value, 0, 2 ** 31),
        },
      });
    case "permessagedeflatewindowbits": {
      const bits = int(setting, value, 9, 15);
      return s.set({ perMessageDeflate: { serverMaxWindowBits: bits, clientMaxWindowBits: bits } });
    }
    case "loglevel":
      c.logLevel = int(setting, value, 0, 3);
      return;
    default:
      if (index !== undefined) throw new TypeError(`Unknown config setting "${setting}"`);
      return applyConfig(c.tcp as TcpServer, setting.trim(), value);
  }
}

/** Reads one setting as a string. */
export function readWsConfig(c: WsConfigTarget, setting: string): string {
  const [name, index] = parseName(setting);
  const s = c.server.settings;
  switch (name) {
    case "buffermessage":
      return String(s.bufferMessage);
    case "disconnectstatuscode":
      return String(c.disconnectCode);
    case "disconnectstatusdescription":
      return c.disconnectDescription;
    case "maxframesize":
      return String(s.maxFrameSize);
    case "maxlinelength":
      return String(index === undefined ? s.maxLineLength : c.server.get(index).maxLineLength);
    case "messagelength":
      return String(index === undefined ? 0 : c.messageLength.get(index) ?? 0);
    case "waitforcloseresponse":
      return String(s.waitForCloseResponse);
    case "enablepermessagedeflate":
      return String(s.perMessageDeflate !== false);
    case "permessagedeflatethreshold":
      // "auto": 128 bytes with context takeover, 1024 without (see PerMessageDeflateOptions.threshold).
      return String(s.perMessageDeflate === false ? 0 : s.perMessageDeflate.threshold ?? "auto");
    case "permessagedeflatewindowbits":
      return String(s.perMessageDeflate === false ? 0 : s.perMessageDeflate.serverMaxWindowBits);
    case "loglevel":
      return String(c.logLevel);
    default:
      return readConfig(c.tcp as TcpServer, setting.trim());
  }
}
