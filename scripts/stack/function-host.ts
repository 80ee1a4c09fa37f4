// Runs one Edge Function module the way the hosted runtime does: the
// module's own `Deno.serve(handler)` call serves the requests, here on the
// loopback port that the local gateway assigned (CRM_SYNC_FUNCTION_PORT).
type Handler = Deno.ServeHandler;
type Options = Deno.ServeTcpOptions & { handler?: Handler };

const port = Number(Deno.env.get('CRM_SYNC_FUNCTION_PORT'));
const entry = Deno.args[0];
if (!port || !entry) {
  console.error('usage: CRM_SYNC_FUNCTION_PORT=<port> deno run function-host.ts <path/to/index.ts>');
  Deno.exit(2);
}

const serve = Deno.serve;
// deno-lint-ignore no-explicit-any
(Deno as any).serve = (first: Handler | Options, second?: Handler) => {
  const options: Options = typeof first === 'function' ? {} : first;
  const handler = typeof first === 'function' ? first : (second ?? first.handler);
  if (!handler) throw new Error('Deno.serve was called without a handler');
  return serve({
    ...options,
    port,
    hostname: '127.0.0.1',
    onListen: () => console.log(`crm-sync:function-ready ${port}`),
  }, handler);
};

await import(new URL(entry, `file://${Deno.cwd()}/`).href);
