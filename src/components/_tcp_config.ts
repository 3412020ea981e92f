/**
 * Config("Name=Value") settings of the TcpServer component (reference:
 * TCPServer Config Settings), mapped onto the server's options.
 *
 * @module
 */

import type { TcpServer } from "./tcp_server.ts";
import { applyTlsConfig, readTlsConfig } from "./_tls_config.ts";

/** Parses the reference's boolean spellings: True/False, 1/0, Yes/No. */
export function parseBool(name: string, v: string): boolean {
  const s = v.toLowerCase();
  if (s === "true" || s === "1" || s === "yes") return true;
  if (s === "false" || s === "0" || s === "no") return false;
  throw new TypeError(`Cannot set ${name} as it must be True/False, 1/0 or Yes/No: current value is "${v}"`);
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

/** Applies one setting; throws `TypeError` for an unknown name or bad value. */
export function applyConfig(c: TcpServer, name: string, value: string): void {
  const s = c.server;
  switch (name.toLowerCase()) {
    case "maxconnections":
      return s.set({ maxConnections: parseInt10(name, value) });
    case "allowedclients":
      return s.set({ allow: value === "*" ? undefined : value });
    case "blockedclients":
      return s.set({ block: value === "" ? undefined : value });
    case "keepalivetime": {
      const ms = parseInt10(name, value);
      return s.set({ keepAlive: ms > 0 ? ms : Boolean(s.options.keepAlive) });
    }
    case "keepaliveinterval":
      throw new TypeError(
        "Cannot set KeepAliveInterval: no runtime (Deno, Bun, Node) exposes TCP_KEEPINTVL; the system default applies",
      );
    case "tcpnodelay":
      return s.set({ noDelay: parseBool(name, value) });
    case "inbuffersize":
      return s.set({ readHighWaterMark: parseInt10(name, value) });
    case "outbuffersize":
      return s.set({ writeHighWaterMark: parseInt10(name, value) });
    case "useipv6": {
      const mode = parseInt10(name, value);
      if (mode === 0) return s.set({ hostname: s.options.hostname === "::" ? "0.0.0.0" : s.options.hostname, ipv6Only: false });
      if (mode === 1) return s.set({ hostname: "::", ipv6Only: true });
      if (mode === 2) return s.set({ hostname: "::", ipv6Only: false });
      throw new RangeError(`Cannot set UseIPv6 as it must be 0, 1 or 2: current value is ${mode}`);
    }
    case "bindexclusively":
      return s.set({ reusePort: !parseBool(name, value) });
    case "codepage": {
      const label = CODE_PAGES[value] ?? value;
      try {
        c._decoder = new TextDecoder(label);
      } catch {
        throw new RangeError(`Cannot set CodePage: "${value}" is not a known code page or encoding label`);
      }
      return;
    }
    default:
      if (applyTlsConfig(c._ssl, name, value)) return;
      throw new TypeError(`Unknown config setting "${name}"`);
  }
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
      return typeof o.keepAlive === "number" ? String(o.keepAlive) : "0";
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
