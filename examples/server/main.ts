/**
 * Starts the example service: node dist/examples/server/main.js
 * (HOST, default 127.0.0.1; PORT, default 3000).
 */
import { buildServer } from './app';
import { loadCorpus } from './corpus';

async function main(): Promise<void> {
  const corpus = loadCorpus();
  const app = buildServer({ corpus, logger: true });
  const address = await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
  app.log.info(`${corpus.documents.length} documents, ${corpus.sections.length} sections of ${corpus.d} dimensions at ${address}`);
}

main().catch((e) => {
  process.stderr.write(`server failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
