import { fuzzShard } from './shard';

fuzzShard(4, 'generic-bridge--node-forward-reject');
