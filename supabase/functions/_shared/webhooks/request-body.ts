// Reads a request body up to a hard size limit. A declared Content-Length
// over the limit is refused without reading; otherwise the stream is read
// and abandoned as soon as it passes the limit, so an oversized body never
// sits in memory whole.

export type BodyReadResult = { ok: true; bytes: Uint8Array } | { ok: false; reason: 'too_large' };

export async function readBodyWithLimit(req: Request, maxBytes: number): Promise<BodyReadResult> {
  const declared = req.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    return { ok: false, reason: 'too_large' };
  }
  if (!req.body) return { ok: true, bytes: new Uint8Array(0) };

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      return { ok: false, reason: 'too_large' };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0] };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
