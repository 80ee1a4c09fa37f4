// A lean HTTP client for the webhook load tests: node:http with a keep-alive
// agent costs the sender a fraction of fetch's CPU, which matters when the
// sender shares the machine's cores with the functions it measures.
import http from 'node:http';

export interface RawAnswer {
  /** 0 when the connection failed or was closed without an answer. */
  status: number;
  text: string;
  error?: string;
}

export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export function createHttpSender(maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    send(url: string, { method, headers, body }: RawRequest): Promise<RawAnswer> {
      const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
      return new Promise((resolve) => {
        const request = http.request(url, {
          method,
          agent,
          headers: { ...headers, ...(bytes ? { 'content-length': String(bytes.byteLength) } : {}) },
        }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on(
            'end',
            () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
        });
        request.on('error', (error) => resolve({ status: 0, text: '', error: String(error) }));
        request.end(bytes);
      });
    },
    close: () => agent.destroy(),
  };
}
