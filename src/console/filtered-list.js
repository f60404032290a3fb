// What the Violations and Denials pages share: the environments for the filter's select, a list
// fetched again whenever the filters change, and the filter form's submit (a date becomes an
// ISO instant, an empty field no filter).
import { useEffect, useState } from "preact/hooks";
import { all, get } from "./api.js";

export function useFilteredList(path, keys, initial = {}) {
  const [envs, setEnvs] = useState([]);
  const [filters, setFilters] = useState(initial);
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    all("/v1/environments").then(setEnvs, setError);
  }, []);
  useEffect(() => {
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    setItems(null);
    get(`${path}?limit=100&${q}`).then(
      (p) => (setItems(p.items), setError(null)),
      (e) => (setItems([]), setError(e)),
    );
  }, [filters]);

  function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const next = Object.fromEntries(keys.map((k) => [k, String(f.get(k) ?? "").trim()]));
    if (next.since) next.since = new Date(next.since).toISOString();
    setFilters(next);
  }
  const names = Object.fromEntries(envs.map((e) => [e.id, e.name]));
  return { envs, names, items, error, submit, filters };
}
