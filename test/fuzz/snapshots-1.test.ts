import { fuzzShard } from './shard';

fuzzShard(1, 'flannel-host-gw--node-forward-drop');
