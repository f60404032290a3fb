// The console's only way to the server: the public API (/v1/...), with the signed-in user's token
// held in this module's memory (never localStorage: a reload signs out, an XSS finds nothing
// stored). A 401 anywhere calls the sign-out hook, which takes the user back to sign-in.
let token = null;
let onUnauthorized = () => {};

export function setToken(t) {
  token = t;
}
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** An API error: the RFC 9457 problem body, with its field errors (path → message). */
export class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
    this.headers = headers;
  }
  get fieldErrors() {
    return Object.fromEntries((this.problem.errors ?? []).map((e) => [e.path, e.message]));
  }
}

/** One request; resolves to {data, etag, text} or throws ApiError. */
export async function request(method, path, { body, headers = {}, text = false } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] = "application/json";
  const res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const problem = await res.json().catch(() => ({ detail: res.statusText }));
    if (res.status === 401 && path.startsWith("/v1/")) onUnauthorized(problem.detail);
    throw new ApiError(res.status, problem, res.headers);
  }
  const etag = res.headers.get("etag");
  if (res.status === 204) return { data: null, etag };
  if (text) return { text: await res.text(), etag };
  return { data: await res.json(), etag };
}

export const get = async (path) => (await request("GET", path)).data;
export const post = async (path, body, headers) => (await request("POST", path, { body, headers })).data;

/** Every item of a paginated list (cursor pagination), up to `max`. */
export async function all(path, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return items;
}

let openapi;
/** The OpenAPI document (the settings forms are generated from its schemas); fetched once. */
export function openApiDocument() {
  openapi ??= fetch("/openapi.json").then((r) => r.json());
  return openapi;
}
