import { fuzzShard } from './shard';

fuzzShard(3);
