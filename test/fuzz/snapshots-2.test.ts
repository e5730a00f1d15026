import { fuzzShard } from './shard';

fuzzShard(2, 'calico-vxlan--healthy');
