/**
 * Huawei Cloud regions → service endpoints, as documented: DWS lives at
 * `https://dws.{region}.myhuaweicloud.com`, except a few regions served from
 * `.myhuaweicloud.cn` and the European site `.myhuaweicloud.eu`. Regions are
 * an open set (new ones appear): anything shaped like a region id maps by the
 * rule; only the exceptions are listed.
 */

/** `cn-north-4`, `ap-southeast-1`, `eu-west-101`, `my-kualalumpur-1`, `ae-ad-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const DEFAULT_DOMAIN = 'myhuaweicloud.com';

/** DWS endpoints that are not on myhuaweicloud.com (huawei-cloud-api-notes.md, "Endpoints and regions"). */
const DWS_DOMAIN_EXCEPTIONS: Readonly<Record<string, string>> = {
  'cn-south-4': 'myhuaweicloud.cn',
  'cn-north-12': 'myhuaweicloud.cn',
  'cn-east-4': 'myhuaweicloud.cn',
  'tr-west-1': 'myhuaweicloud.cn',
  'ap-southeast-4': 'myhuaweicloud.cn',
  'eu-west-101': 'myhuaweicloud.eu',
};

/**
 * IAM keeps myhuaweicloud.com for the .cn regions above (the official SDKs'
 * IAM endpoint table); only the European site has its own domain.
 */
const IAM_DOMAIN_EXCEPTIONS: Readonly<Record<string, string>> = {
  'eu-west-101': 'myhuaweicloud.eu',
};

export function isRegionId(value: string): boolean {
  return REGION_PATTERN.test(value);
}

function requireRegion(region: string): void {
  if (!isRegionId(region)) throw new RangeError(`not a Huawei Cloud region id: ${JSON.stringify(region)}`);
}

/** `cn-north-4` → `https://dws.cn-north-4.myhuaweicloud.com`. */
export function dwsEndpointForRegion(region: string): string {
  requireRegion(region);
  return `https://dws.${region}.${DWS_DOMAIN_EXCEPTIONS[region] ?? DEFAULT_DOMAIN}`;
}

/** `cn-north-4` → `https://iam.cn-north-4.myhuaweicloud.com`. */
export function iamEndpointForRegion(region: string): string {
  requireRegion(region);
  return `https://iam.${region}.${IAM_DOMAIN_EXCEPTIONS[region] ?? DEFAULT_DOMAIN}`;
}

const DWS_HOST = /^dws\.([a-z0-9-]+)\.myhuaweicloud\.(com|cn|eu)$/;

/**
 * The region of an official DWS endpoint (`https://dws.cn-north-4.myhuaweicloud.com`
 * → `cn-north-4`), so projects configured by endpoint still get a region in
 * dws.clusters; null for anything else (a proxy, the simulator).
 */
export function regionOfEndpoint(endpoint: string): string | null {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return null;
  }
  const region = DWS_HOST.exec(host)?.[1];
  return region !== undefined && isRegionId(region) ? region : null;
}
