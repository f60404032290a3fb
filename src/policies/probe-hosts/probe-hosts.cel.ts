// The CEL twin of probe-hosts.rego (see ../cel.ts): the same findings, word for word. Every
// probe and lifecycle hook handler that can name a host is spelt out (CEL cannot index a field
// by a computed name); an unset, null or empty host is the pod's own IP and always allowed.
import { containerFindingExpr, containersWith, field, type ControlCel } from "../cel.ts";

const HANDLERS = ["httpGet", "tcpSocket"];
const PATHS = [
  ...["livenessProbe", "readinessProbe", "startupProbe"].flatMap((probe) => HANDLERS.map((h) => `${probe}.${h}.host`)),
  ...["postStart", "preStop"].flatMap((hook) => HANDLERS.map((h) => `lifecycle.${hook}.${h}.host`)),
];

// Hosts are compared in lower case (the allowed list is stored so); lowerAscii, as the list is ASCII.
const refused = (host: string) => `(${host} != null && ${host} != "" && !(string(${host}).lowerAscii() in variables.params.allowedHosts))`;

/** The refused hosts of container `ct`: [{field, host}]. */
const refusedHosts = PATHS.map((p) => `(${refused(field("ct.c", p))} ? [{"field": dyn(${JSON.stringify(p)}), "host": dyn(${field("ct.c", p)})}] : [])`).join(
  " + ",
);

export const cel: ControlCel = {
  variables: [
    {
      name: "hostsWhy",
      expression: `size(variables.params.allowedHosts) == 0 ? "the host must be unset (the pod's own IP)" : "the host must be unset (the pod's own IP) or one of: " + variables.params.allowedHosts.join(", ")`,
    },
    { name: "probeHosts", expression: containersWith({ refused: refusedHosts }) },
    {
      name: "findings",
      expression: `variables.probeHosts.map(ct, ct.refused.map(b, ${containerFindingExpr("b.field", '"\\"" + string(b.host) + "\\""', "variables.hostsWhy")})).flatten()`,
    },
  ],
};
