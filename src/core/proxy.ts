// Which proxy a request goes through, from the conventional variables (HTTPS_PROXY, HTTP_PROXY,
// ALL_PROXY, NO_PROXY, either case, lower case first) — the rules curl and proxy-from-env apply.
// Pure: the environment is an argument, so nothing borrows or changes process.env.
//
// NO_PROXY: entries separated by commas or spaces; "*" alone means no proxy at all; an entry may end
// in :port (then it only matches that port); an entry starting with "." or "*" matches by suffix,
// any other entry matches the host name exactly.

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443, ftp: 21, gopher: 70 };

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

const read = (env: ProxyEnv, name: string): string => env[name.toLowerCase()] || env[name.toUpperCase()] || '';

function bypassed(host: string, port: number, noProxy: string): boolean {
  if (!noProxy) return false;
  if (noProxy === '*') return true;
  return noProxy.split(/[,\s]/).some((entry) => {
    if (!entry) return false;
    const withPort = /^(.+):(\d+)$/.exec(entry);
    const entryHost = withPort ? withPort[1]! : entry;
    const entryPort = withPort ? Number.parseInt(withPort[2]!, 10) : 0;
    if (entryPort && entryPort !== port) return false;
    if (!/^[.*]/.test(entryHost)) return host === entryHost;
    return host.endsWith(entryHost.startsWith('*') ? entryHost.slice(1) : entryHost);
  });
}

/** The proxy URL for `url`, or '' when it goes direct. IPv6 hosts keep their brackets, as in NO_PROXY. */
export function proxyForUrl(url: string, env: ProxyEnv): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '';
  }
  if (!parsed.host) return '';
  const scheme = parsed.protocol.replace(/:$/, '');
  const host = parsed.host.replace(/:\d*$/, '');
  const port = Number.parseInt(parsed.port, 10) || DEFAULT_PORTS[scheme] || 0;
  if (bypassed(host, port, read(env, 'no_proxy').toLowerCase())) return '';
  const proxy = read(env, `${scheme}_proxy`) || read(env, 'all_proxy');
  // A proxy given without a scheme speaks the request's scheme.
  return proxy && !proxy.includes('://') ? `${scheme}://${proxy}` : proxy;
}
