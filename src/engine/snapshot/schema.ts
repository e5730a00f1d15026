// JSON Schema (draft-07, as ajv validates it) of `*.netpath.json`: the contract of
// DESIGN.md "Snapshot" / "NodeNetworkStackDump" in checkable form. The parts netpath defines
// (top level, settings, dumps) are closed — a misspelt field is an error, not silently "not
// collected"; Kubernetes objects are open beyond the fields the engine reads.
// Formats `ip`, `cidr` and `date-time` are registered by load.ts.

const str = { type: 'string' } as const;
const strMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const uint = { type: 'integer', minimum: 0 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const protocol = { enum: ['TCP', 'UDP', 'SCTP'] } as const;
/** `ip -j …` output: an array of objects. */
const iprouteJson = { type: 'array', items: { type: 'object' } } as const;
const iptablesSave = {
  type: 'object',
  properties: { nft: str, legacy: str },
  additionalProperties: false,
  minProperties: 1,
} as const;

// Names as Kubernetes validates them (formats registered by load.ts, in `kubernetesNames`): the
// API server would never return anything else, so a snapshot holding one was edited or forged and
// is rejected with the rule named. Interface names inside dumps are not Kubernetes names (any pod
// with NET_ADMIN picks them): they are only ever shown escaped.
const subdomain = { type: 'string', format: 'dns1123-subdomain' } as const;
const dnsLabel = { type: 'string', format: 'dns1123-label' } as const;
const dns1035 = { type: 'string', format: 'dns1035-label' } as const;
/** Label (and annotation) keys; label values. */
const labels = { type: 'object', propertyNames: { format: 'label-key' }, additionalProperties: { type: 'string', format: 'label-value' } } as const;
const annotations = { type: 'object', propertyNames: { format: 'label-key' }, additionalProperties: { type: 'string' } } as const;

/** The rule each kind's `metadata.name` follows in the API server's validation. */
type NameRule = typeof subdomain | typeof dnsLabel | typeof dns1035;

const metadata = (namespaced: boolean, name: NameRule) => ({
  type: 'object',
  required: namespaced ? ['name', 'namespace'] : ['name'],
  properties: {
    name,
    namespace: dnsLabel,
    labels,
    annotations,
  },
});

const object = (kind: string, namespaced: boolean, extra: Record<string, unknown> = {}, name: NameRule = subdomain) => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: str,
    kind: { const: kind },
    metadata: metadata(namespaced, name),
    ...extra,
  },
});

const labelSelector = {
  type: 'object',
  properties: {
    matchLabels: labels,
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: { key: str, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: { type: 'array', items: str } },
      },
    },
  },
} as const;

const endpointPorts = {
  type: 'array',
  items: { type: 'object', properties: { name: str, port, protocol, appProtocol: str } },
} as const;

export const netnsInfoSchema = {
  type: 'object',
  required: ['id', 'pids'],
  additionalProperties: false,
  properties: {
    id: uint,
    pids: { type: 'array', items: uint },
    links: iprouteJson,
    addresses: iprouteJson,
    routes: iprouteJson,
    routes6: iprouteJson,
    rules: iprouteJson,
    rules6: iprouteJson,
    neighbours: iprouteJson,
    neighbours6: iprouteJson,
    neighbours6Proxy: iprouteJson,
    fdb: iprouteJson,
    iptables: iptablesSave,
    ip6tables: iptablesSave,
    ipsets: str,
    ipvs: str,
    nftables: { type: 'object', required: ['nftables'], properties: { nftables: { type: 'array' } } },
    nftablesText: str,
    sockets: str,
    procNet: { type: 'object', additionalProperties: false, properties: { tcp: str, tcp6: str, udp: str, udp6: str } },
    sysctls: strMap,
    conntrack: { type: 'object', required: ['count', 'max'], additionalProperties: false, properties: { count: uint, max: uint } },
    xtRecent: str,
  },
} as const;

export const dumpSchema = {
  type: 'object',
  required: ['node', 'netns', 'collector'],
  additionalProperties: false,
  properties: {
    node: netnsInfoSchema,
    netns: { type: 'array', items: netnsInfoSchema },
    kernel: {
      type: 'object',
      required: ['release'],
      additionalProperties: false,
      properties: {
        // `uname -r`: at most 64 bytes in the kernel (__NEW_UTS_LEN), one printable line.
        release: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
        ipv6MulticastRouting: { type: 'boolean' },
      },
    },
    collector: {
      type: 'object',
      required: ['version', 'startedAt', 'durationMs', 'errors'],
      additionalProperties: false,
      properties: {
        version: str,
        startedAt: { type: 'string', format: 'date-time' },
        durationMs: { type: 'number', minimum: 0 },
        errors: {
          type: 'array',
          items: {
            type: 'object',
            required: ['tool', 'message'],
            additionalProperties: false,
            properties: { tool: str, netns: uint, exitCode: uint, stderr: str, line: uint, column: uint, message: str },
          },
        },
      },
    },
  },
} as const;

export const snapshotSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://netpath.dev/schema/netpath-snapshot-v1.json',
  title: 'netpath snapshot (*.netpath.json)',
  type: 'object',
  required: ['kind', 'version', 'capturedAt', 'settings', 'objects', 'dumps'],
  additionalProperties: false,
  properties: {
    kind: { const: 'NetpathSnapshot' },
    version: { const: 1 },
    capturedAt: { type: 'string', format: 'date-time' },
    settings: {
      type: 'object',
      properties: {
        networkPlugin: str,
        backend: str,
        proxyMode: { enum: ['iptables', 'ipvs', 'nftables', 'userspace', 'kernelspace'] },
        podCIDRs: { type: 'array', items: { type: 'string', format: 'cidr' } },
        serviceCIDRs: { type: 'array', items: { type: 'string', format: 'cidr' } },
      },
    },
    objects: {
      type: 'object',
      required: ['nodes', 'pods', 'services', 'endpointSlices', 'endpoints', 'networkPolicies', 'namespaces', 'configMaps'],
      additionalProperties: false,
      properties: {
        nodes: {
          type: 'array',
          items: object('Node', false, {
            spec: {
              type: 'object',
              properties: { podCIDR: { type: 'string', format: 'cidr' }, podCIDRs: { type: 'array', items: { type: 'string', format: 'cidr' } } },
            },
            status: {
              type: 'object',
              properties: {
                addresses: { type: 'array', items: { type: 'object', required: ['type', 'address'], properties: { type: str, address: str } } },
              },
            },
          }),
        },
        pods: {
          type: 'array',
          items: object('Pod', true, {
            spec: { type: 'object', properties: { nodeName: subdomain, hostNetwork: { type: 'boolean' } } },
            status: {
              type: 'object',
              properties: {
                phase: str,
                podIP: { type: 'string', format: 'ip' },
                podIPs: { type: 'array', items: { type: 'object', required: ['ip'], properties: { ip: { type: 'string', format: 'ip' } } } },
                hostIP: { type: 'string', format: 'ip' },
              },
            },
          }),
        },
        services: {
          type: 'array',
          items: object('Service', true, {
            spec: {
              type: 'object',
              properties: {
                type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
                clusterIP: str,
                clusterIPs: { type: 'array', items: str },
                selector: labels,
                ports: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['port'],
                    properties: { name: str, port, protocol, targetPort: { type: ['integer', 'string'] }, nodePort: port },
                  },
                },
              },
            },
          }, dns1035),
        },
        endpointSlices: {
          type: 'array',
          items: object('EndpointSlice', true, {
            apiVersion: { const: 'discovery.k8s.io/v1' },
            addressType: { enum: ['IPv4', 'IPv6', 'FQDN'] },
            ports: endpointPorts,
            endpoints: {
              type: 'array',
              items: {
                type: 'object',
                required: ['addresses'],
                properties: {
                  addresses: { type: 'array', minItems: 1, items: str },
                  conditions: { type: 'object', properties: { ready: { type: 'boolean' }, serving: { type: 'boolean' }, terminating: { type: 'boolean' } } },
                  nodeName: subdomain,
                  zone: str,
                },
              },
            },
          }),
        },
        originalEndpointSlices: { type: 'array', items: object('EndpointSlice', true) },
        endpoints: {
          type: 'array',
          items: object('Endpoints', true, {
            subsets: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  addresses: { type: 'array', items: { type: 'object', required: ['ip'], properties: { ip: { type: 'string', format: 'ip' }, nodeName: subdomain } } },
                  notReadyAddresses: { type: 'array', items: { type: 'object', required: ['ip'], properties: { ip: { type: 'string', format: 'ip' }, nodeName: subdomain } } },
                  ports: endpointPorts,
                },
              },
            },
          }),
        },
        networkPolicies: {
          type: 'array',
          items: object('NetworkPolicy', true, {
            spec: {
              type: 'object',
              required: ['podSelector'],
              properties: {
                podSelector: labelSelector,
                policyTypes: { type: 'array', items: { enum: ['Ingress', 'Egress'] } },
                ingress: { type: 'array', items: { type: 'object' } },
                egress: { type: 'array', items: { type: 'object' } },
              },
            },
          }),
        },
        namespaces: { type: 'array', items: object('Namespace', false, {}, dnsLabel) },
        configMaps: { type: 'array', items: object('ConfigMap', true, { data: strMap }) },
        ipPools: { type: 'array', items: object('IPPool', false, { spec: { type: 'object' } }) },
        daemonSets: { type: 'array', items: object('DaemonSet', true, { spec: { type: 'object' } }) },
      },
    },
    dumps: { type: 'object', additionalProperties: dumpSchema },
  },
} as const;

const column = { type: 'array', items: str } as const;

/** Line 1 of a version 2 file (format.ts): everything but the parts, which are checked one by one against the schema above. */
export const snapshotHeaderSchema = {
  type: 'object',
  required: ['kind', 'version', 'headerBytes', 'capturedAt', 'settings', 'index'],
  additionalProperties: false,
  properties: {
    kind: { const: 'NetpathSnapshot' },
    version: { const: 2 },
    headerBytes: { type: 'string', pattern: '^\\d{10}$' },
    capturedAt: snapshotSchema.properties.capturedAt,
    settings: snapshotSchema.properties.settings,
    index: {
      type: 'object',
      required: ['parts', 'lists', 'pods', 'endpointSlices', 'dumps'],
      additionalProperties: false,
      properties: {
        parts: { type: 'array', items: uint },
        lists: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(['nodes', 'services', 'networkPolicies', 'namespaces', 'configMaps', 'endpoints', 'ipPools', 'daemonSets', 'originalEndpointSlices'].map((k) => [k, uint])),
        },
        pods: {
          type: 'object',
          required: ['first', 'namespaces', 'nodes', 'namespace', 'name', 'node', 'ips'],
          additionalProperties: false,
          properties: { first: uint, namespaces: column, nodes: column, namespace: { type: 'array', items: uint }, name: column, node: { type: 'array', items: uint }, ips: column },
        },
        endpointSlices: { type: 'object', required: ['first', 'namespace', 'name', 'service'], additionalProperties: false, properties: { first: uint, namespace: column, name: column, service: column } },
        services: { type: 'object', required: ['first', 'namespace', 'name', 'ips', 'nodePorts'], additionalProperties: false, properties: { first: uint, namespace: column, name: column, ips: column, nodePorts: column } },
        nodes: {
          type: 'object',
          required: ['first', 'name', 'ips', 'podCIDRs', 'providerID', 'annotated'],
          additionalProperties: false,
          properties: { first: uint, name: column, ips: column, podCIDRs: column, providerID: column, annotated: { type: 'object', additionalProperties: uint } },
        },
        dumps: { type: 'object', required: ['first', 'node'], additionalProperties: false, properties: { first: uint, node: column } },
      },
    },
  },
} as const;

/**
 * Every schema a snapshot or a dump is checked against, by name: the whole file (`snapshot
 * validate`, version 1), and the parts a lazy version 2 read checks on first use. The bundles carry
 * these compiled at build time (scripts/standalone-validators.ts); load.ts compiles any other.
 */
export const validatedSchemas: Record<string, object> = {
  snapshot: snapshotSchema,
  header: snapshotHeaderSchema,
  dump: dumpSchema,
  ...Object.fromEntries(Object.entries(snapshotSchema.properties.objects.properties).map(([name, list]) => [`objects.${name}`, list])),
  'objects.pods[]': snapshotSchema.properties.objects.properties.pods.items,
  'objects.endpointSlices[]': snapshotSchema.properties.objects.properties.endpointSlices.items,
  'objects.services[]': snapshotSchema.properties.objects.properties.services.items,
  'objects.nodes[]': snapshotSchema.properties.objects.properties.nodes.items,
};
