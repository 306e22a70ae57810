/**
 * `asla serve DIR`: a read-only live page on 127.0.0.1 that follows a running
 * search. The server polls each agent's episodes.jsonl (append-only) once a
 * second and pushes every new episode to the page through server-sent events;
 * the page then reloads the pictures it shows: the latest build step by step
 * with its Q-maps, the energy trace, the best structure, and for an ensemble
 * each agent's progress. Only GET is served; nothing in DIR is written.
 *
 *   GET /                     the page
 *   GET /events               SSE: "hello" (agents and progress), then "episode" per new episode
 *   GET /api/state            agents and progress as JSON
 *   GET /picture/energy.svg?agent=K
 *   GET /picture/best.svg?agent=K
 *   GET /picture/build.svg?agent=K&episode=E             the build step by step
 *   GET /picture/step.svg?agent=K&episode=E&step=T       Q-maps of step T (1-based)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { EpisodeRecord } from '../agent/agent.js';
import { buildPicture, qmapPicture, structurePicture } from './pictures.js';
import { energyPlotSpec, vegaLiteSvg } from './plots.js';
import { agentDirs, BuildReplayer, loadRun, networkFor, type RunData } from './rundata.js';
import { LIVE_PAGE } from './livepage.js';

export interface ServeOptions {
  dir: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Poll interval for new episodes, ms (default 1000). */
  pollMs?: number;
}

export interface LiveServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface AgentView {
  name: string;
  dir: string;
  run: RunData | null;
  size: number;
  mtimeMs: number;
  replayer: BuildReplayer | null;
  updated: number;
  /** Why the run could not be read (shown on the page), or null. */
  error: string | null;
}

function progressOf(a: AgentView, k: number) {
  const r = a.run;
  const eps = r?.episodes ?? [];
  const last = eps[eps.length - 1];
  const n = r?.atomsPerStructure ?? 1;
  let best: EpisodeRecord | null = null;
  for (const e of eps) if (e.energy !== null && (best === null || e.energy < best.energy!)) best = e;
  return {
    agent: k,
    name: a.name,
    problem: r?.config.name ?? null,
    episodes: last?.episode ?? 0,
    // the configured episodes; a run resumed with a larger --episodes has gone past it: no target shown
    target: r && r.config.run.episodes >= (last?.episode ?? 0) ? r.config.run.episodes : null,
    actions: last?.actions.length ?? 0,
    lastEnergy: last?.energy != null ? last.energy / n : null,
    bestEnergy: best ? best.energy! / n : null,
    bestEpisode: best?.episode ?? null,
    referenceEnergy: r?.referenceEnergy != null ? r.referenceEnergy / n : null,
    firstReference: eps.find((e) => e.reachedReference)?.episode ?? null,
    updated: a.updated,
    error: a.error,
  };
}

export async function startLiveServer(opts: ServeOptions): Promise<LiveServer> {
  const dir = opts.dir;
  const host = opts.host ?? '127.0.0.1';
  const agents: AgentView[] = agentDirs(dir).map((d) => ({ name: basename(d), dir: d, run: null, size: -1, mtimeMs: 0, replayer: null, updated: 0, error: null }));
  const clients = new Set<ServerResponse>();
  const cache = new Map<string, string>();

  const send = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  /** Re-reads an agent whose episodes.jsonl changed; returns the new episode records. */
  function refresh(a: AgentView): EpisodeRecord[] {
    const path = join(a.dir, 'episodes.jsonl');
    const st = existsSync(path) ? statSync(path) : null;
    const size = st?.size ?? 0;
    if (a.run && size === a.size && (st?.mtimeMs ?? 0) === a.mtimeMs) return [];
    const before = a.run?.episodes.length ?? 0;
    try {
      if (!a.run) a.run = loadRun(a.dir);
      else {
        const fresh = loadRun(a.dir); // best.extxyz and summary change with the episodes
        a.run = fresh;
      }
    } catch (e) {
      a.error = (e as Error).message.split('\n')[0]; // a file mid-write (next poll) or a run this asla cannot read
      return [];
    }
    a.error = null;
    a.size = size;
    a.mtimeMs = st?.mtimeMs ?? 0;
    const eps = a.run.episodes;
    if (eps.length < before) return []; // truncated by a resume: shown on the next append
    if (eps.length > before) a.updated = Date.now();
    return eps.slice(before);
  }

  // initial read
  for (const a of agents) refresh(a);

  /** Re-reads an agent and sends what is new to every page (also when a picture request re-read it first). */
  function update(a: AgentView, k: number): void {
    const fresh = refresh(a);
    if (fresh.length === 0) return;
    const last = fresh[fresh.length - 1];
    const progress = progressOf(a, k);
    const n = a.run!.atomsPerStructure;
    const payload = {
      ...progress,
      new: fresh.map((r) => ({ episode: r.episode, greedy: r.greedy, energy: r.energy === null ? null : r.energy / n, failure: r.failure?.kind ?? null })),
      latest: { episode: last.episode, actions: last.actions.length, greedy: last.greedy, energy: last.energy === null ? null : last.energy / n },
    };
    for (const c of clients) send(c, 'episode', payload);
  }

  const poll = setInterval(() => {
    agents.forEach((a, k) => update(a, k));
  }, opts.pollMs ?? 1000);
  const keepAlive = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15000);

  function agentOf(url: URL): AgentView & { index: number } {
    const k = Number(url.searchParams.get('agent') ?? '0');
    if (!Number.isInteger(k) || k < 0 || k >= agents.length) throw new HttpError(404, `no agent ${url.searchParams.get('agent')}`);
    const a = agents[k];
    update(a, k);
    if (!a.run) throw new HttpError(404, `agent ${a.name} has no readable run${a.error ? `: ${a.error}` : ' yet'}`);
    return Object.assign(a, { index: k });
  }

  function episodeArg(url: URL, a: AgentView): EpisodeRecord {
    const eps = a.run!.episodes;
    const raw = url.searchParams.get('episode') ?? 'latest';
    const rec = raw === 'latest' ? eps[eps.length - 1] : eps.find((r) => r.episode === Number(raw));
    if (!rec) throw new HttpError(404, `agent ${a.name} has no episode ${raw}`);
    return rec;
  }

  function cached(key: string, make: () => string): string {
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const v = make();
    cache.set(key, v);
    if (cache.size > 200) cache.delete(cache.keys().next().value!);
    return v;
  }

  async function picture(path: string, url: URL): Promise<string> {
    const a = agentOf(url);
    const run = a.run!;
    if (path === '/picture/energy.svg') {
      const eps = run.episodes;
      const key = `energy:${a.index}:${eps.length}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const svg = await vegaLiteSvg(energyPlotSpec(eps, { atoms: run.atomsPerStructure, referenceEnergy: run.referenceEnergy, threshold: run.config.success.threshold }));
      cache.set(key, svg);
      return svg;
    }
    if (path === '/picture/best.svg') {
      if (!run.best) throw new HttpError(404, 'no best structure yet');
      const best = run.best;
      return cached(`best:${a.index}:${best.info.episode}`, () => {
        const e = best.info.energy as number | undefined;
        return structurePicture(best, {
          title: `best: ${e !== undefined ? `${(e / best.length).toFixed(4)} eV/atom` : ''}${best.info.episode !== undefined ? `, episode ${best.info.episode}` : ''}`,
          templateCount: run.config.template.length,
          periodic: [run.config.grid.periodic[0], run.config.grid.periodic[1]],
          size: 300,
        });
      });
    }
    const rec = episodeArg(url, a);
    a.replayer ??= new BuildReplayer(run.config);
    const replayer = a.replayer;
    const { snapshot, note } = networkFor(a.dir, run.config, rec.episode);
    const netKey = snapshot ? `${snapshot.source}${snapshot.episode}` : 'none';
    const energy = rec.energy === null ? `failed (${rec.failure?.kind})` : `${(rec.energy / run.atomsPerStructure).toFixed(4)} eV/atom`;
    if (path === '/picture/build.svg') {
      return cached(`build:${a.index}:${rec.episode}:${netKey}`, () => {
        const steps = replayer.steps(rec, snapshot?.net ?? null);
        const finished = steps.pop()!;
        return buildPicture(replayer.context, steps, { title: `episode ${rec.episode}${rec.greedy ? ' (greedy)' : ''}: ${energy}`, final: { atoms: finished.atoms, caption: energy }, note, size: 150, columns: 8 });
      });
    }
    if (path === '/picture/step.svg') {
      const t = Number(url.searchParams.get('step') ?? '1');
      if (!Number.isInteger(t) || t < 1 || t > rec.actions.length + 1) throw new HttpError(404, `step must be 1..${rec.actions.length + 1}`);
      return cached(`step:${a.index}:${rec.episode}:${t}:${netKey}`, () => {
        const [s] = replayer.steps(rec, snapshot?.net ?? null, t - 1);
        return qmapPicture(replayer.context, s, { title: `episode ${rec.episode}, ${s.action ? `step ${t} of ${rec.actions.length}` : `finished: ${energy}`}`, note, size: 300 });
      });
    }
    throw new HttpError(404, 'no such picture');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'read-only: GET only');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(LIVE_PAGE);
      return;
    }
    if (path === '/api/state') {
      agents.forEach(refresh);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ dir, ensemble: agents.length > 1 || agents[0].dir !== dir, agents: agents.map(progressOf) }));
      return;
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 2000\n\n');
      send(res, 'hello', { dir, ensemble: agents.length > 1 || agents[0].dir !== dir, agents: agents.map(progressOf) });
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (path.startsWith('/picture/')) {
      const svg = await picture(path, url);
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'no-store' });
      res.end(svg);
      return;
    }
    throw new HttpError(404, 'not found');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${(e as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: async () => {
      clearInterval(poll);
      clearInterval(keepAlive);
      for (const c of clients) c.end();
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // event streams and keep-alive sockets would hold close() open
      await closed;
    },
  };
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}
