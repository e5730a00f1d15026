import { fuzzShard } from './shard';

fuzzShard(2);
