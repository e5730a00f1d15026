// A diagnosis endpoint (seed: Endpoint): what the user named, resolved against the cluster.

export type EndpointType = 'pod' | 'node' | 'service' | 'lb' | 'external';

export interface Endpoint {
  ip: string;
  type: EndpointType;
  /** Destination port; 0 for a source. */
  port: number;
  /** The object behind the IP: `namespace/name` for pods and services, the node name for nodes. */
  ref?: string;
}

export function formatEndpoint(e: Endpoint): string {
  const ip = e.ip.includes(':') ? `[${e.ip}]` : e.ip;
  return `[${e.type}]${e.ref ? `${e.ref} ` : ''}${ip}:${e.port}`;
}
