// Spectral function for `oas3-operation-security-defined` (.spectral.yaml):
// the rule of spectral:oas, as OpenAPI 3.1 states it. Every scheme a
// security requirement names must be defined in components.securitySchemes;
// an oauth2 or openIdConnect scheme's scopes must be among its flows'
// scopes. For other schemes (e.g. http bearer) OpenAPI 3.1 lets the array
// list role names "not otherwise defined or exchanged in-band" (Security
// Requirement Object), which Spectral 6.x reports as undefined scopes
// (https://github.com/stoplightio/spectral/issues/2643); they are accepted
// here, in 3.1 documents only.
export default function securityRequirementDefined(input, _options, { document, path }) {
  if (input === null || typeof input !== 'object') return;
  const data = document.data;
  const schemes = data && data.components && data.components.securitySchemes;
  const roles = typeof data.openapi === 'string' && !data.openapi.startsWith('3.0');
  const results = [];
  for (const [name, scopes] of Object.entries(input)) {
    const scheme = schemes && schemes[name];
    if (scheme === null || typeof scheme !== 'object') {
      const object = path.length === 2 ? 'API' : 'Operation';
      results.push({
        message: `${object} "security" values must match a scheme defined in the "components.securitySchemes" object.`,
        path: [...path, name],
      });
      continue;
    }
    if (!Array.isArray(scopes)) continue;
    const scoped = scheme.type === 'oauth2' || scheme.type === 'openIdConnect';
    if (!scoped && roles) continue;
    const flows = scheme.flows && typeof scheme.flows === 'object' ? Object.values(scheme.flows) : [];
    scopes.forEach((scope, i) => {
      const defined = flows.some((flow) => flow && flow.scopes && scope in flow.scopes);
      if (!defined && (scoped || !roles)) {
        results.push({ message: `"${scope}" must be listed among scopes.`, path: [...path, name, i] });
      }
    });
  }
  return results;
}
