/**
 * Config("Name=Value") settings of the TcpServer component (reference:
 * TCPServer Config Settings), mapped onto the server's options.
 *
 * @module
 */

import type { TcpServer } from "./tcp_server.ts";
import type { ServerOptions } from "../net/server_options.ts";
import { ServerError } from "../net/errors.ts";
import { NotSupportedError } from "../runtime/errors.ts";
import { applyTlsConfig, readTlsConfig } from "./_tls_config.ts";

/** Parses the reference's boolean spellings: True/False, 1/0, Yes/No. */
export function parseBool(name: string, v: string): boolean {
  const s = v.toLowerCase();
  if (s === "true" || s === "1" || s === "yes") return true;
  if (s === "false" || s === "0" || s === "no") return false;
  throw new TypeError(
    `Cannot set ${name} as it must be True/False, 1/0 or Yes/No: current value is "${v}"`,
  );
}

function parseInt10(name: string, v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n)) {
    throw new TypeError(`Cannot set ${name} as it must be an integer: current value is "${v}"`);
  }
  return n;
}

/** Windows code page numbers the reference uses, mapped to TextDecoder labels. */
const CODE_PAGES: Record<string, string> = {
  "0": "utf-8",
  "65001": "utf-8",
  "1252": "windows-1252",
  "28591": "iso-8859-1",
  "1251": "windows-1251",
  "932": "shift_jis",
  "936": "gbk",
  "949": "euc-kr",
  "950": "big5",
};

/**
 * `server.set(options)`, with errors naming the setting as the caller wrote
 * it (`InBufferSize`, not the option `readHighWaterMark`).
 */
function setAs(c: TcpServer, name: string, options: Partial<ServerOptions>): void {
  try {
    c.server.set(options);
  } catch (error) {
    throw renamed(error, Object.keys(options), name);
  }
}

function renamed(error: unknown, keys: string[], name: string): unknown {
  if (!(error instanceof Error)) return error;
  const word = (k: string) => new RegExp(`\\b${k}\\b`, "g");
  const key = keys.find((k) => word(k).test(error.message));
  if (key === undefined) return error;
  const message = error.message.replace(word(key), name);
  if (error instanceof ServerError) return new ServerError(error.code, message, { cause: error });
  if (error instanceof NotSupportedError) {
    return new NotSupportedError(error.runtime, error.feature, message);
  }
  if (error instanceof RangeError) return new RangeError(message, { cause: error });
  if (error instanceof TypeError) return new TypeError(message, { cause: error });
  return error;
}

/** Applies one setting; throws `TypeError` for an unknown name or bad value. */
export function applyConfig(c: TcpServer, name: string, value: string): void {
  const s = c.server;
  switch (name.toLowerCase()) {
    case "maxconnections":
      return setAs(c, name, { maxConnections: parseInt10(name, value) });
    case "allowedclients":
      return setAs(c, name, { allow: value === "*" ? undefined : value });
    case "blockedclients":
      return setAs(c, name, { block: value === "" ? undefined : value });
    case "keepalivetime": {
      // Only the time: KeepAlive turns probes on (reference: KeepAliveTime, KeepAlive).
      const ms = parseInt10(name, value);
      if (ms < 0) {
        throw new RangeError(
          `Cannot set ${name} as it must be >= 0 milliseconds: current value is ${ms}`,
        );
      }
      if (s.options.keepAlive) setAs(c, name, { keepAlive: ms > 0 ? ms : true });
      c._keepAliveTime = ms;
      return;
    }
    case "keepaliveinterval":
      throw new TypeError(
        "Cannot set KeepAliveInterval: no runtime (Deno, Bun, Node) exposes TCP_KEEPINTVL; the system default applies",
      );
    case "tcpnodelay":
      return setAs(c, name, { noDelay: parseBool(name, value) });
    case "inbuffersize":
      return setAs(c, name, { readHighWaterMark: parseInt10(name, value) });
    case "outbuffersize":
      return setAs(c, name, { writeHighWaterMark: parseInt10(name, value) });
    case "useipv6":
      return useIpv6(c, name, parseInt10(name, value));
    case "bindexclusively":
      return setAs(c, name, { reusePort: !parseBool(name, value) });
    case "codepage": {
      const label = CODE_PAGES[value] ?? value;
      try {
        c._decoder = new TextDecoder(label);
      } catch {
        throw new RangeError(
          `Cannot set CodePage: "${value}" is not a known code page or encoding label`,
        );
      }
      return;
    }
    default:
      if (applyTlsConfig(c._ssl, name, value)) return;
      throw new TypeError(`Unknown config setting "${name}"`);
  }
}

/**
 * UseIPv6 (reference: 0 IPv4 only, 1 IPv6 only, 2 both). 1 and 2 keep an
 * IPv6 LocalHost and replace an IPv4 one with `::`; 0 puts back the IPv4
 * LocalHost that was replaced (when LocalHost has not changed since), or
 * maps `::1` to `127.0.0.1` and any other IPv6 address to `0.0.0.0`.
 */
function useIpv6(c: TcpServer, name: string, mode: number): void {
  if (mode !== 0 && mode !== 1 && mode !== 2) {
    throw new RangeError(`Cannot set ${name} as it must be 0, 1 or 2: current value is ${mode}`);
  }
  const host = c.server.options.hostname;
  const isV6 = host !== undefined && host.includes(":");
  if (mode === 0) {
    if (!isV6) return setAs(c, name, { ipv6Only: false });
    const saved = c._ipv4Host;
    const v4 = saved !== undefined && saved.v6 === host
      ? saved.v4
      : host === "::1"
      ? "127.0.0.1"
      : "0.0.0.0";
    setAs(c, name, { hostname: v4, ipv6Only: false });
    c._ipv4Host = undefined;
    return;
  }
  const v6 = isV6 ? host : "::";
  setAs(c, name, { hostname: v6, ipv6Only: mode === 1 });
  if (!isV6) c._ipv4Host = { v4: host, v6 };
}

/** Reads one setting as a string. */
export function readConfig(c: TcpServer, name: string): string {
  const o = c.server.options;
  switch (name.toLowerCase()) {
    case "maxconnections":
      return String(o.maxConnections ?? 1000);
    case "allowedclients":
      return o.allow === undefined ? "*" : [o.allow].flat().join(",");
    case "blockedclients":
      return o.block === undefined ? "" : [o.block].flat().join(",");
    case "keepalivetime":
      return String(typeof o.keepAlive === "number" ? o.keepAlive : c._keepAliveTime);
    case "keepaliveinterval":
      return "0";
    case "tcpnodelay":
      return String(o.noDelay ?? true);
    case "inbuffersize":
      return String(o.readHighWaterMark ?? 65536);
    case "outbuffersize":
      return String(o.writeHighWaterMark ?? 65536);
    case "useipv6":
      return o.hostname?.includes(":") ? (o.ipv6Only ? "1" : "2") : "0";
    case "bindexclusively":
      return String(!(o.reusePort ?? false));
    case "codepage":
      return c._decoder.encoding;
    default: {
      const tls = readTlsConfig(c._ssl, c.server, name);
      if (tls !== undefined) return tls;
      throw new TypeError(`Unknown config setting "${name}"`);
    }
  }
}
