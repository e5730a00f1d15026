// What a NetNode did with a packet (seed: Action): the input link and the links it produced.

export type ActionType =
  /** The node originated the packet. */
  | 'send'
  /** Routed/bridged it on. */
  | 'forward'
  /** Delivered it to a local socket (the end of a path). */
  | 'serve'
  /** Load-balanced a service address to backends (kube-proxy DNAT, IPVS). */
  | 'service'
  /** Dropped or could not pass it on (the suspicions say why). */
  | 'drop'
  /** Reached a node the engine could not look inside (no dump): what it did is not known. */
  | 'unexamined';

export interface Action {
  type: ActionType;
  /** Link id of the incoming packet; absent for the node's own initiative (`send`). */
  input?: string;
  /** Link ids produced. */
  outputs: string[];
}
