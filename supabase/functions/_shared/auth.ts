// The claims of a request's bearer token. The gateway (hosted or local) has
// already verified the signature when the function has verify_jwt on; this
// only reads them, to keep service-only endpoints service-only and to act
// as the caller in the database.
export function claimsOf(authorization: string | null): Record<string, unknown> | null {
  const payload = authorization?.replace(/^Bearer\s+/i, '').split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/** The role of a request's bearer token. */
export function roleOf(authorization: string | null): string | null {
  const role = claimsOf(authorization)?.role;
  return typeof role === 'string' ? role : null;
}
