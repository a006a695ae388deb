/** The proxy as the run log shows it: which URLs use which proxy, credentials masked. */
import { describe, expect, it } from 'vitest';
import { describeProxy, maskProxyUrl } from '../../../src/source/dispatcher.js';

describe('describeProxy', () => {
  it('is null without a proxy, whatever NO_PROXY says', () => {
    expect(describeProxy(undefined)).toBeNull();
    expect(describeProxy({ httpProxy: undefined, httpsProxy: undefined, noProxy: 'localhost' })).toBeNull();
  });

  it('https:// URLs fall back to HTTP_PROXY; http:// ones never use HTTPS_PROXY', () => {
    expect(describeProxy({ httpProxy: 'http://proxy:3128', httpsProxy: undefined, noProxy: undefined })).toEqual({
      https: 'http://proxy:3128',
      http: 'http://proxy:3128',
      noProxy: '',
    });
    expect(describeProxy({ httpProxy: undefined, httpsProxy: 'http://proxy:3128', noProxy: '.internal' })).toEqual({
      https: 'http://proxy:3128',
      http: 'direct',
      noProxy: '.internal',
    });
  });

  it('masks user and password', () => {
    expect(maskProxyUrl('http://exporter:s3cr%40t@proxy.corp:3128')).toBe('http://***:***@proxy.corp:3128');
    expect(maskProxyUrl('https://token@proxy.corp')).toBe('https://***:***@proxy.corp');
    expect(maskProxyUrl('http://proxy.corp:3128/')).toBe('http://proxy.corp:3128');
  });
});
