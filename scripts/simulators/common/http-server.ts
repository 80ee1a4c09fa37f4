/**
 * The Node HTTP plumbing of a simulator: reading bodies, writing JSON or
 * HTML answers, hanging up on requests after a delay, and a server that
 * sends `/_sim/...` to the control API and everything else to the API.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY_BYTES = 20 * 1024 * 1024;

export type Send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string>) => void;

/** The request body as text; rejects with `tooLarge()` past 20 MiB. */
export function readBody(request: IncomingMessage, tooLarge: () => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    request.on('data', (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(tooLarge());
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      const out = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      resolve(new TextDecoder().decode(out));
    });
    request.on('error', reject);
  });
}

/** A `send` that writes no body for 204 or undefined, strings as HTML, anything else as JSON. */
export function createSend(jsonContentType: string): Send {
  return (response, status, body, headers) => {
    if (status === 204 || body === undefined) {
      response.writeHead(status, headers);
      response.end();
      return;
    }
    if (typeof body === 'string') {
      response.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
      response.end(body);
      return;
    }
    response.writeHead(status, { 'Content-Type': jsonContentType, ...headers });
    response.end(JSON.stringify(body));
  };
}

/** Requests left without an answer whose connection is closed after a while (timeout faults). */
export class HungRequests {
  private timers = new Set<ReturnType<typeof setTimeout>>();

  hangUpAfter(request: IncomingMessage, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      request.socket.destroy();
    }, ms);
    this.timers.add(timer);
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

export interface SimulatorServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  handleControl: Handler;
  handleApi: Handler;
  send: Send;
  /** The 500 body when a handler fails unexpectedly. */
  failureBody: unknown;
}

/** What a simulator needs of its state to start and stop around the server. */
export interface ServedState {
  /** Set once listening. */
  baseUrl: string;
  webhooks: { close(): void };
}

export interface RunningSimulator<State> {
  /** `http://<host>:<port>`. */
  url: string;
  port: number;
  state: State;
  /** Stops webhook deliveries, hung requests and the server. */
  close(): Promise<void>;
}

/** Listens, records the base URL in the state, and closes everything on `close()`. */
export async function listenSimulator<State extends ServedState>(
  state: State,
  hung: HungRequests,
  options: SimulatorServerOptions,
): Promise<RunningSimulator<State>> {
  const { handleControl, handleApi, send, failureBody } = options;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const handled = url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')
      ? handleControl(request, response, url)
      : handleApi(request, response, url);
    handled.catch((error) => {
      console.error(error);
      if (!response.headersSent) send(response, 500, failureBody, {});
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host}:${port}`;
  state.baseUrl = url;

  return {
    url,
    port,
    state,
    async close() {
      state.webhooks.close();
      hung.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
    },
  };
}
