import { fuzzShard } from './shard';

fuzzShard(4);
