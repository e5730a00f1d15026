import { fuzzShard } from './shard';

fuzzShard(1);
