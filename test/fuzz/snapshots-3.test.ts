import { fuzzShard } from './shard';

fuzzShard(3, 'flannel-vxlan--vxlan-fdb-missing');
