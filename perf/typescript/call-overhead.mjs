// Client CPU per call of the generated TypeScript SDK against a hand-written fetch call (issue 13).
//
//   node perf/typescript/call-overhead.mjs [--calls N] [--ops get,list,...] BUILD_DIR [BUILD_DIR...]
//
// BUILD_DIR is an SDK compiled with its driver (out/typescript/.driver-build after
// `polysdk load --lang typescript` or `tsc -p tsconfig.driver.json` in out/typescript); give two to
// compare builds. A loopback HTTP server answering the load mix's exchanges (the bodies of
// conformance/polysdk_conformance/load/plan.py) runs in a child process, so its CPU is not counted.
// For each operation, the raw call and each build's SDK call take turns one call at a time (the
// order reversed every other turn), each timed with process.cpuUsage() (user + system): a shared,
// loaded machine then slows every side alike, where separate runs drift apart. Printed per side:
// the median and the mean of the lowest 90 % of its calls, and their difference to the raw call.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const RUN_ID = "5b0c2c1e-7a53-4c8e-9a51-2f4d8f1e6a10";

function serve() {
  const agent = (n) => ({
    id: `agt_${n}`,
    name: `agent-${n}`,
    status: "online",
    created_at: "2025-01-14T09:30:00Z",
    updated_at: "2025-02-02T17:05:12Z",
    last_heartbeat_at: null,
  });
  const events = [
    { type: "run.started", agent_id: "agt_1" },
    { type: "step.started", step_id: "search", step_type: "tool_call" },
    { type: "message.delta", message_id: "c3d9a7e4-1b2f-4e6a-8c0d-5f7e9a1b3c2d", delta: "Found 20" },
    { type: "step.completed", step_id: "search", output: { results: 20 }, duration_ms: 1840, cost_usd: 0.0125 },
    { type: "run.completed", cost_usd: 1.1875, usage_by_model: {}, output: { artifact_id: "art_load" } },
  ];
  const sse = Buffer.from(
    events
      .map((e, i) => {
        const data = { ...e, sequence: i + 1, run_id: RUN_ID, occurred_at: `2025-02-03T08:02:0${i + 1}Z` };
        return `event: ${e.type}\nid: ${i + 1}\ndata: ${JSON.stringify(data)}\n\n`;
      })
      .join(""),
  );
  const json = {
    "/v1/agents/agt_1": JSON.stringify(agent(1)),
    "/v1/agents?limit=2": JSON.stringify({ data: [agent(1), agent(2)], next_cursor: "c2", has_more: true }),
    "/v1/agents?cursor=c2&limit=2": JSON.stringify({ data: [agent(3)], next_cursor: null, has_more: false }),
  };
  const download = Buffer.from(Uint8Array.from({ length: 65536 }, (_, i) => i & 255));
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url.endsWith("/events:stream")) {
        res.writeHead(200, { "content-type": "text/event-stream" }).end(sse);
      } else if (req.url.endsWith("/content")) {
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": download.length }).end(download);
      } else {
        const body = json[req.method === "POST" ? "/v1/agents/agt_1" : req.url];
        if (body === undefined) res.writeHead(404).end();
        else res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
      }
    });
  });
  server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
  process.stdin.on("end", () => process.exit(0)).resume(); // ends with its parent
}

async function startServer() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise((done, fail) => {
    child.stdout.once("data", (chunk) => done(Number(String(chunk).trim())));
    child.once("exit", (code) => fail(new Error(`the server exited (${code})`)));
  });
  return { base: `http://127.0.0.1:${port}/`, stop: () => child.stdin.end() };
}

/** The raw calls: what a hand-written client does (the driver's raw client, conformance/load.ts). */
function rawOps(base) {
  const headers = [
    ["Authorization", "Bearer tok_load"],
    ["Accept", "application/json"],
  ];
  const send = async (path, init = {}) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    try {
      return await fetch(new URL(path, base).toString(), { method: "GET", headers, signal: controller.signal, ...init });
    } finally {
      clearTimeout(timer);
    }
  };
  const json = async (path, init) => JSON.parse(await (await send(path, init)).text());
  return {
    list: async () => {
      await json("v1/agents?limit=2");
      await json("v1/agents?cursor=c2&limit=2");
    },
    get: () => json("v1/agents/agt_1"),
    create: () =>
      json("v1/agents", {
        method: "POST",
        headers: [...headers, ["Content-Type", "application/json"], ["Idempotency-Key", "load-create-1"]],
        body: new TextEncoder().encode('{"name":"research-assistant"}'),
      }),
    stream: async () => {
      const text = await (await send(`v1/runs/${RUN_ID}/events:stream`, { headers: [headers[0], ["Accept", "text/event-stream"]] })).text();
      for (const block of text.split("\n\n")) {
        const data = block.split("\n").find((line) => line.startsWith("data:"));
        if (data !== undefined) JSON.parse(data.slice(5));
      }
    },
    download: async () => {
      await (await send("v1/artifacts/art_load/content", { headers: [headers[0], ["Accept", "application/octet-stream"]] })).arrayBuffer();
    },
  };
}

/** The same calls through a build's SDK, as the driver's load mode makes them. */
async function sdkOps(dir, base) {
  const sdk = await import(pathToFileURL(resolve(dir, "src", "index.js")).href);
  const client = new sdk.OrchestratorClient({ baseURL: base, bearerToken: "tok_load", maxRetries: 2, timeout: 10_000 });
  return {
    list: async () => {
      let page = await client.agents.list({ limit: 2 });
      while (page.hasNextPage()) page = await page.getNextPage();
    },
    get: () => client.agents.get({ agent_id: "agt_1" }),
    create: () => client.agents.register({ body: { name: "research-assistant" } }, { idempotencyKey: "load-create-1" }),
    stream: async () => {
      for await (const event of await client.runs.streamEvents({ run_id: RUN_ID })) void event;
    },
    download: async () => {
      const reader = (await client.artifacts.download({ artifact_id: "art_load" })).getReader();
      while (!(await reader.read()).done);
    },
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1];
}

/** The mean of the lowest 90 %: the slowest calls (a GC pause, a preemption) land on either side. */
function lowMean(values) {
  const kept = [...values].sort((a, b) => a - b).slice(0, Math.floor(values.length * 0.9));
  return kept.reduce((sum, v) => sum + v, 0) / kept.length;
}

async function main(args) {
  let calls = 1000;
  let ops = ["list", "get", "create", "stream", "download"];
  const dirs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--calls") calls = Number(args[++i]);
    else if (args[i] === "--ops") ops = args[++i].split(",");
    else dirs.push(args[i]);
  }
  if (dirs.length === 0 || !(calls > 0)) throw new Error("usage: call-overhead.mjs [--calls N] [--ops get,list,...] BUILD_DIR...");
  const server = await startServer();
  try {
    const sides = [["raw", rawOps(server.base)]];
    for (const dir of dirs) sides.push([dir, await sdkOps(dir, server.base)]);
    const cpu = () => {
      const usage = process.cpuUsage();
      return usage.user + usage.system;
    };
    for (const op of ops) {
      for (const [, side] of sides) for (let i = 0; i < 200; i++) await side[op](); // JIT, pools
      const spent = sides.map(() => []);
      for (let i = 0; i < calls; i++) {
        const order = i % 2 === 0 ? sides.keys() : [...sides.keys()].reverse();
        for (const s of order) {
          const before = cpu();
          await sides[s][1][op]();
          spent[s].push(cpu() - before);
        }
      }
      console.log(`${op}: CPU µs per call over ${calls} calls each, taking turns (difference to raw)`);
      const [rawMedian, rawMean] = [median(spent[0]), lowMean(spent[0])];
      sides.forEach(([name], s) => {
        const [m, l] = [median(spent[s]), lowMean(spent[s])];
        console.log(`  ${name.padEnd(40)} median ${m.toFixed(0).padStart(6)} (${(m - rawMedian).toFixed(0).padStart(5)})  lowest-90% mean ${l.toFixed(1).padStart(8)} (${(l - rawMean).toFixed(1).padStart(7)})`);
      });
    }
  } finally {
    server.stop();
  }
}

if (process.argv[2] === "--serve") serve();
else await main(process.argv.slice(2));
