import { container, pod, workload, type Sample } from "../sample.ts";

const ports = (...list: object[]) => ({ ports: list });
const web = {
  hostPorts: [
    { min: 8000, max: 8080 },
    { min: 9090, max: 9090 },
  ],
};

export const samples: Sample[] = [
  { name: "no-host-network-or-ports", description: "a plain pod", object: pod(), expect: [] },
  {
    name: "container-port-only",
    description: "containerPort without hostPort, and hostPort 0, mean no host port",
    object: pod({
      containers: [container("app", ports({ containerPort: 8080 }, { containerPort: 9090, hostPort: 0 }))],
    }),
    expect: [],
  },
  {
    name: "host-network",
    description: "hostNetwork: true with the default options",
    object: pod({ hostNetwork: true }),
    expect: [{ field: "spec.hostNetwork" }],
  },
  {
    name: "host-network-false",
    description: "hostNetwork explicitly false",
    object: pod({ hostNetwork: false }),
    expect: [],
  },
  {
    name: "host-network-allowed",
    description: "allowHostNetwork admits hostNetwork",
    options: { allowHostNetwork: true },
    object: pod({ hostNetwork: true }),
    expect: [],
  },
  {
    name: "host-network-allowed-port-refused",
    description: "allowHostNetwork does not admit host ports: the empty list allows none",
    options: { allowHostNetwork: true },
    object: pod({ hostNetwork: true, containers: [container("app", ports({ containerPort: 53, hostPort: 53 }))] }),
    expect: [{ container: "app", field: "ports[0].hostPort" }],
  },
  {
    name: "host-port-none-allowed",
    description: "any hostPort is refused with the default (empty) list",
    object: pod({ containers: [container("app", ports({ containerPort: 80, hostPort: 80 }))] }),
    expect: [{ container: "app", field: "ports[0].hostPort" }],
  },
  {
    name: "host-ports-in-range",
    description: "host ports at both ends of a range and a single-port range are admitted",
    options: web,
    object: pod({
      containers: [
        container("app", ports({ containerPort: 1, hostPort: 8000 }, { containerPort: 2, hostPort: 8080 })),
        container("metrics", ports({ containerPort: 9090, hostPort: 9090 })),
      ],
    }),
    expect: [],
  },
  {
    name: "host-ports-out-of-range",
    description: "ports just outside a range are refused, each at its own index, in every container kind",
    options: web,
    object: pod({
      containers: [
        container("app", ports({ containerPort: 1, hostPort: 8000 }, { containerPort: 2, hostPort: 8081 })),
        container("metrics", ports({ containerPort: 9091, hostPort: 9091 })),
      ],
      initContainers: [container("setup", ports({ containerPort: 7999, hostPort: 7999 }))],
      ephemeralContainers: [container("debug", ports({ containerPort: 22, hostPort: 22 }))],
    }),
    expect: [
      { container: "app", field: "ports[1].hostPort" },
      { container: "metrics", field: "ports[0].hostPort" },
      { container: "setup", field: "ports[0].hostPort" },
      { container: "debug", field: "ports[0].hostPort" },
    ],
  },
  {
    name: "host-port-image-exempt",
    description: "an exempt image may bind any host port; other containers are still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "ingress controller" }] },
    object: pod({
      containers: [
        container("ingress", { image: "registry.example.com/x/ingress:1.9", ...ports({ containerPort: 443, hostPort: 443 }) }),
        container("sidecar", ports({ containerPort: 8443, hostPort: 8443 })),
      ],
    }),
    expect: [{ container: "sidecar", field: "ports[0].hostPort" }],
  },
  {
    name: "host-network-all-images-exempt",
    description: "when every container image is exempt, hostNetwork is not checked either",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "ingress controller" }] },
    object: pod({
      hostNetwork: true,
      containers: [container("ingress", { image: "registry.example.com/x/ingress:1.9" })],
    }),
    expect: [],
  },
  {
    name: "host-network-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ hostNetwork: true, containers: [container("app", ports({ containerPort: 80, hostPort: 80 }))] }),
    expect: [],
  },
  {
    name: "host-network-deployment",
    description: "a Deployment whose pod template uses the host network and a host port (through expansion)",
    object: workload("Deployment", {
      hostNetwork: true,
      containers: [container("app", ports({ containerPort: 8080, hostPort: 8080 }))],
    }),
    expect: [{ field: "spec.hostNetwork" }, { container: "app", field: "ports[0].hostPort" }],
  },
];
