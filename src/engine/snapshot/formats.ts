// The string formats the snapshot schemas use (schema.ts): Kubernetes' name rules with the messages
// load.ts reports, and IP / CIDR / date-time. A module of its own because the validators compiled
// ahead of time for the bundles (scripts/standalone-validators.ts) import `snapshotFormats` by name.
import { parseIP, parsePrefix } from '../netstack/ip';

const labelName = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const dnsLabel = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
function isSubdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((part) => dnsLabel.test(part));
}

/** Kubernetes' name rules (k8s.io/apimachinery validation), as schema formats with their messages. */
export const kubernetesNames: Record<string, { test: (s: string) => boolean; message: string }> = {
  'dns1123-subdomain': {
    test: isSubdomain,
    message: 'must be a DNS-1123 subdomain as Kubernetes requires (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)',
  },
  'dns1123-label': {
    test: (s) => dnsLabel.test(s),
    message: 'must be a DNS-1123 label as Kubernetes requires (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
  },
  'dns1035-label': {
    test: (s) => dnsLabel.test(s) && /^[a-z]/.test(s),
    message: 'must be a DNS-1035 label as Kubernetes requires of service names (lower-case letters, digits and "-", starting with a letter, ending with a letter or digit, at most 63 characters)',
  },
  'label-key': {
    test: (s) => {
      const slash = s.lastIndexOf('/');
      const prefix = slash < 0 ? undefined : s.slice(0, slash);
      return labelName.test(slash < 0 ? s : s.slice(slash + 1)) && (prefix === undefined || (prefix !== '' && isSubdomain(prefix)));
    },
    message: 'is not a valid label key as Kubernetes requires (an optional DNS-1123 subdomain and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
  },
  'label-value': {
    test: (s) => s === '' || labelName.test(s),
    message: 'must be a valid label value as Kubernetes requires (empty, or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
  },
};

/** Every format the schemas name, as ajv takes it. */
export const snapshotFormats: Record<string, (s: string) => boolean> = {
  ip: (s) => parseIP(s) !== undefined,
  cidr: (s) => s.includes('/') && parsePrefix(s) !== undefined,
  'date-time': (s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)),
  ...Object.fromEntries(Object.entries(kubernetesNames).map(([name, rule]) => [name, rule.test])),
};
