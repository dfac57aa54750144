// A client generated from pxt's /openapi.json (openapi-typescript types + openapi-fetch), used the
// way a TypeScript user would: every route kind of the test service "shop" (tests/cli/openapi_lib.sh)
// is called through the typed client, and every answer (success and error) is checked against
// what the document declares for that path, method and status: the status is declared, the
// content type is one of its media types, and a JSON body validates (ajv, JSON Schema 2020-12,
// formats checked, no undeclared property). Compiling this file with tsc is itself a check: the
// generated types must carry the route's columns, the job result's type, Pixeltable's component
// names. Run by tests/cli/test_openapi_client.sh: node client_roundtrip.js BASE_URL OPENAPI_JSON
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import createClient from "openapi-fetch";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

import type { components, paths } from "./api.js";

type Schemas = components["schemas"];
type Json = unknown;

const [baseUrl, docPath, pngPath] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docPath, "utf8"));

// ---- validation of answers against the document ----

// A copy of the document in which every object schema that lists its properties allows no
// other: an answer with an undeclared field fails (pydantic's models do not say so, but pxt's
// answers must not carry anything the schema does not name).
function closeObjects(node: Json): Json {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) out[k] = closeObjects(v);
  if ("properties" in out && out.type === "object" && !("additionalProperties" in out)) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
addFormats(ajv);
ajv.addFormat("binary", true);
ajv.addSchema(closeObjects(doc) as object, "openapi");

const pointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");
let checked = 0;
const called = new Set<string>();

// Checks one answer against the document.
async function check(path: string, method: string, res: Response): Promise<void> {
  const what = `${method.toUpperCase()} ${path} -> ${res.status}`;
  called.add(`${method} ${path}`);
  const op = doc.paths[path]?.[method];
  assert.ok(op, `${what}: the operation is not in the document`);
  const declared = op.responses[String(res.status)];
  assert.ok(declared, `${what}: status not declared (declared: ${Object.keys(op.responses).join(", ")})`);
  const content: Record<string, unknown> = declared.content ?? {};
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const key = Object.keys(content).find(
    (k) => k === type || (k.endsWith("/*") && type.startsWith(k.slice(0, -1))),
  );
  assert.ok(key !== undefined || Object.keys(content).length === 0,
    `${what}: content type ${type} not declared (declared: ${Object.keys(content).join(", ")})`);
  checked++;
  if (key !== "application/json") return;
  const body = await res.json();
  const ref = `openapi#/paths/${pointer(path)}/${method}/responses/${res.status}/content/application~1json/schema`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  assert.ok(validate(body), `${what}: ${JSON.stringify(body)} does not match its schema: ${ajv.errorsText(validate.errors)}`);
}

// ---- the client ----

const client = createClient<paths>({ baseUrl });
// Every answer the client receives is checked against the document before the test sees it.
client.use({
  async onResponse({ request, response, schemaPath }) {
    await check(schemaPath, request.method.toLowerCase(), response.clone());
    return undefined;
  },
});
// The typed result of a call, and its status.
async function call<T, E>(promise: Promise<{ data?: T; error?: E; response: Response }>) {
  const { data, error, response } = await promise;
  return { data, error, status: response.status };
}
async function bytes(blob: Blob | undefined): Promise<Uint8Array> {
  return new Uint8Array(await blob!.arrayBuffer());
}

const png = readFileSync(pngPath);
const dataUri = "data:image/png;base64," + png.toString("base64");
function form(fields: Record<string, string>, files: Record<string, Buffer>): FormData {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [k, v] of Object.entries(files)) fd.append(k, new Blob([new Uint8Array(v)], { type: "image/png" }), `${k}.png`);
  return fd;
}

// insert: JSON body, a media value as a data: URI; the answer's media value is a URL reference.
const inserted = await call(client.POST("/api/items", {
  body: { sku: "a1", price: 2.5, qty: 3, added: "2024-01-02T03:04:05Z", tags: { color: "red" }, photo: dataUri },
}));
assert.equal(inserted.status, 200);
const item: Schemas["ItemsResponse"] = inserted.data!;
const label: string | null = item.label;
assert.equal(label, "a1: 2.5");
const photoUrl: string | null = item.photo;
assert.match(photoUrl!, /^\/api\/media\//);
// The URL is relative to the service: resolved against it, it is the stored file.
const photo = await fetch(new URL(photoUrl!, baseUrl));
assert.equal(photo.headers.get("content-type"), "image/png");
// ... and it is GET /api/media/{path} of the document.
const mediaPath = photoUrl!.slice("/api/media/".length);
const media = await call(client.GET("/api/media/{path}", { params: { path: { path: mediaPath } }, parseAs: "blob" }));
assert.equal(media.status, 200);
assert.deepEqual(await bytes(media.data), new Uint8Array(png));
await call(client.GET("/api/media/{path}", { params: { path: { path: "no/such.png" } }, parseAs: "blob" }));

// the same key again, a failing computed column, a missing field, a body over the limit: error
// answers as declared, Pixeltable's error body typed.
const dup = await call(client.POST("/api/items", { body: { sku: "a1", price: 1 } }));
assert.equal(dup.status, 422);
const dupError = dup.error as Schemas["PixeltableError"];
assert.equal(dupError.detail.error_code, "CONSTRAINT_VIOLATION");
assert.equal(dupError.detail.retryable, false);
const failing = await call(client.POST("/api/items", { body: { sku: "e5", price: 1, note: "{not json" } }));
assert.equal(failing.status, 400);
const failure: Schemas["PixeltableErrorDetail"] = (failing.error as Schemas["PixeltableError"]).detail;
assert.equal(failure.error_code, "UNSUPPORTED_OPERATION");
const missing = await call(client.POST("/api/items", { body: { sku: "b2" } as never }));
assert.equal(missing.status, 422);
const tooBig = await call(client.POST("/api/items", { body: { sku: "x".repeat(2 << 20), price: 1 } }));
assert.equal(tooBig.status, 413);

// update, then an unknown key. Prices are fractional: the label is SQL text of a Float, which
// SQLite spells "4.0" and PostgreSQL "4" when integral (doc/catalog.md); "4.5" is the same on both.
const updated = await call(client.POST("/api/items/update", { body: { sku: "a1", price: 4.5 } }));
const u: Schemas["ItemsUpdateResponse"] = updated.data!;
assert.equal(u.price, 4.5);
assert.equal(u.label, "a1: 4.5");
const noRow = await call(client.POST("/api/items/update", { body: { sku: "zz", price: 1 } }));
assert.equal(noRow.status, 404);

// compute: nothing stored.
const computed = await call(client.POST("/api/items/label", { body: { sku: "c3", price: 1.5 } }));
const c: Schemas["ItemsLabelResponse"] = computed.data!;
assert.equal(c.label, "c3: 1.5");

// query, POST and GET; one_row, found and not.
const cheapPost = await call(client.POST("/api/cheap", { body: { max_price: 10 } }));
const rows: Schemas["CheapPostResponse"]["rows"] = cheapPost.data!.rows;
assert.equal(rows.length, 1);
assert.equal(rows[0].sku, "a1");
const cheapGet = await call(client.GET("/api/cheap", { params: { query: { max_price: 10, limit: 1 } } }));
assert.equal(cheapGet.data!.rows[0].price, 4.5);
const badQuery = await call(client.GET("/api/cheap", { params: { query: { max_price: "x" as never } } }));
assert.equal(badQuery.status, 422);
const one = await call(client.GET("/api/item", { params: { query: { sku: "a1" } } }));
const row: Schemas["ItemRowResponse"] = one.data!;
assert.deepEqual(row.tags, { color: "red" });
const none = await call(client.GET("/api/item", { params: { query: { sku: "nope" } } }));
assert.equal(none.status, 404);

// upload (multipart): the answer carries URLs of the stored image and its computed thumbnail.
const uploaded = await call(client.POST("/api/pictures", {
  body: { n: 1, image: "" },
  bodySerializer: () => form({ n: "1" }, { image: png }),
}));
assert.equal(uploaded.status, 200);
const pic: Schemas["PicturesResponse"] = uploaded.data!;
assert.match(pic.image, /^\/api\/media\//);
assert.match(pic.thumb!, /^\/api\/media\//);

// file responses: the bytes, with a content type the document declares.
const thumb = await call(client.POST("/api/pictures/thumb", {
  body: { n: 2, image: "" },
  bodySerializer: () => form({ n: "2" }, { image: png }),
  parseAs: "blob",
}));
assert.equal(thumb.status, 200);
const file = await call(client.POST("/api/picture", { body: { n: 1 }, parseAs: "blob" }));
assert.deepEqual(await bytes(file.data), new Uint8Array(png));

// background: the job handle, then its status until done; the result is the route's answer.
const started = await call(client.POST("/api/items/bg", { body: { sku: "d4", price: 9.5 } }));
const handle: Schemas["BackgroundJobResponse"] = started.data!;
assert.ok(handle.job_url.endsWith(`/api/jobs/${handle.id}`));
let status: Schemas["JobStatusResponse"] | undefined;
for (let i = 0; i < 600; i++) {
  const polled = await call(client.GET("/api/jobs/{job_id}", { params: { path: { job_id: handle.id } } }));
  status = polled.data!;
  if (status.status !== "pending") break;
  await new Promise((r) => setTimeout(r, 50));
}
assert.equal(status!.status, "done", JSON.stringify(status));
// The route's own job status type: its result is typed as the route's answer.
const job = status as Schemas["ItemsBgJobStatus"];
const result: Schemas["ItemsBgResponse"] | null = job.result;
assert.equal(result!.sku, "d4");
assert.equal(result!.label, "d4: 9.5");
const unknownJob = await call(client.GET("/api/jobs/{job_id}", { params: { path: { job_id: "nope" } } }));
assert.equal(unknownJob.status, 404);

// delete: Pixeltable's DeleteResponse.
const deleted = await call(client.POST("/api/items/delete", { body: { sku: "a1" } }));
const d: Schemas["DeleteResponse"] = deleted.data!;
const n: number = d.num_rows;
assert.equal(n, 1);

// Every operation of the document was called.
const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`));
assert.deepEqual(operations.filter((o) => !called.has(o)), [], "operations never called");
console.log(`ok: ${checked} answers of ${operations.length} operations match the document`);
