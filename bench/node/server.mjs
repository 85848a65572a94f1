// node-oidc-provider configured as the bench module's other issuers are:
// one confidential client (client_secret_basic) allowed the
// client-credentials grant on one API (a resource indicator, RFC 8707),
// JWT access tokens (RFC 9068) signed with the key handed in, the same
// lifetime and claim set. bench/internal/peers starts it and writes its
// configuration as JSON on standard input:
//
//   {"issuer", "alg", "jwk", "clientId", "clientSecret", "api", "scope",
//    "lifetime" (seconds), "gty", "subjectSuffix"}
//
// It listens on 127.0.0.1 on a free port, prints "listening PORT" on
// standard output, and stops when standard input closes.
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

process.stdin.setEncoding('utf8');
process.stdin.on('end', () => process.exit(0));
const cfg = await new Promise((resolve) => {
  let input = '';
  process.stdin.on('data', (chunk) => {
    if (input === null) return; // after the configuration: wait for the end
    input += chunk;
    const nl = input.indexOf('\n');
    if (nl >= 0) {
      resolve(JSON.parse(input.slice(0, nl)));
      input = null;
    }
  });
});

const provider = new Provider(cfg.issuer, {
  clients: [{
    client_id: cfg.clientId,
    client_secret: cfg.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: cfg.scope,
  }],
  scopes: cfg.scope.split(' '),
  jwks: { keys: [cfg.jwk] },
  enabledJWA: { idTokenSigningAlgValues: [cfg.alg] },
  clientDefaults: { id_token_signed_response_alg: cfg.alg },
  routes: { token: '/oauth/token' },
  ttl: { ClientCredentials: cfg.lifetime },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== cfg.api) throw new errors.InvalidTarget();
        return {
          scope: cfg.scope,
          audience: cfg.api,
          accessTokenTTL: cfg.lifetime,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: cfg.alg } },
        };
      },
    },
  },
  formats: {
    customizers: {
      // sub, azp and gty as scopekit writes them for a client-credentials
      // token; oidc-provider sets sub to the client ID.
      jwt: (ctx, token, jwt) => {
        jwt.payload.sub = token.clientId + cfg.subjectSuffix;
        jwt.payload.azp = token.clientId;
        jwt.payload.gty = cfg.gty;
      },
    },
  },
});
provider.on('server_error', (ctx, err) => console.error(err));

const server = createServer({ keepAliveTimeout: 60_000 }, provider.callback());
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
