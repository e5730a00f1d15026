// A diagnosis endpoint (seed: Endpoint): what the user named, resolved against the cluster.
import { formatAddressPort } from './packet';

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
  return `[${e.type}]${e.ref ? `${e.ref} ` : ''}${formatAddressPort(e.ip, e.port)}`;
}
