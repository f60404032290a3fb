// A whole environment's settings → the ordered objects the agent applies, and a summary a
// person reads before enforcing. Templates first (constraint CRDs must exist before their
// constraints), then constraints, then the expansion templates.
import { catalogue } from "./catalogue.ts";
import { activePatterns, type EnforcementPoint } from "./common/knobs.ts";
import type { AnyControl } from "./control.ts";
import { renderExpansionTemplates } from "./expansion.ts";
import { renderConstraint, renderTemplate, type K8sObject } from "./render.ts";
import type { ControlSettings, EnvironmentSettings } from "./settings.ts";

export interface RenderedEnvironment {
  objects: K8sObject[];
  summary: string[];
}

export function enabledControls(settings: EnvironmentSettings) {
  return catalogue.flatMap((control) => {
    const s = (settings.controls as Record<string, ControlSettings | undefined>)[control.id];
    return s?.enabled ? [{ control, settings: s }] : [];
  });
}

/** Where a control is enforced: its own setting, else the environment's if it has CEL, else the webhook. */
export function enforcementPointOf(control: AnyControl, s: ControlSettings, settings: EnvironmentSettings): EnforcementPoint {
  return s.enforcementPoint ?? (control.cel ? settings.enforcementPoint : undefined) ?? "webhook";
}

/** `now` decides which exemptions have expired; pass it explicitly so output is reproducible. */
export function renderEnvironment(settings: EnvironmentSettings, now: Date): RenderedEnvironment {
  const enabled = enabledControls(settings);
  const templates = enabled.map(({ control, settings: s }) => renderTemplate(control, enforcementPointOf(control, s, settings)));
  const constraints = enabled.map(({ control, settings: s }) =>
    renderConstraint(
      control,
      {
        enforcementAction: s.enforcementAction ?? settings.enforcementAction,
        exemptions: s.exemptions,
        options: s.options,
        enforcementPoint: enforcementPointOf(control, s, settings),
      },
      settings.exemptions,
      now,
    ),
  );
  const objects = enabled.length > 0 ? [...templates, ...constraints, ...renderExpansionTemplates()] : [];
  return { objects, summary: summarise(settings, now) };
}

function summarise(settings: EnvironmentSettings, now: Date): string[] {
  const enabled = enabledControls(settings);
  const lines = [`${enabled.length} of ${catalogue.length} controls enabled`];
  const envNs = activePatterns(settings.exemptions.namespaces, now);
  const envImg = activePatterns(settings.exemptions.images, now);
  if (envNs.length) lines.push(`all controls skip namespaces: ${envNs.join(", ")}`);
  if (envImg.length) lines.push(`all controls skip images: ${envImg.join(", ")}`);
  if (settings.enforcementPoint && settings.enforcementPoint !== "webhook") {
    const regoOnly = enabled.filter(({ control, settings: s }) => !control.cel && s.enforcementPoint === undefined).map(({ control }) => control.slug);
    if (regoOnly.length) lines.push(`Rego only, so enforced by the webhook alone: ${regoOnly.join(", ")}`);
  }
  for (const { control, settings: s } of enabled) {
    const point = enforcementPointOf(control, s, settings);
    // Said only when not the webhook, so summaries of documents without the setting are unchanged.
    const action = `${s.enforcementAction ?? settings.enforcementAction}${point === "webhook" ? "" : ` via ${point}`}`;
    const ns = activePatterns(s.exemptions.namespaces, now);
    const img = activePatterns(s.exemptions.images, now);
    const expired = [...s.exemptions.namespaces, ...s.exemptions.images].length - ns.length - img.length;
    const extra = [
      ns.length ? `skips namespaces ${ns.join(", ")}` : "",
      img.length ? `skips images ${img.join(", ")}` : "",
      expired ? `${expired} expired exemption(s) not rendered` : "",
    ].filter(Boolean);
    lines.push(`${control.slug} [${action}]: ${control.describe(s.options)}${extra.length ? `; ${extra.join("; ")}` : ""}`);
  }
  const disabled = catalogue.filter((c) => !enabled.some((e) => e.control === c)).map((c) => c.slug);
  if (disabled.length) lines.push(`disabled: ${disabled.join(", ")}`);
  return lines;
}
