// The role of a request's bearer token. The gateway (hosted or local) has
// already verified the signature when the function has verify_jwt on; this
// only reads the claim, to keep service-only endpoints service-only.
export function roleOf(authorization: string | null): string | null {
  const payload = authorization?.replace(/^Bearer\s+/i, '').split('.')[1];
  if (!payload) return null;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof claims.role === 'string' ? claims.role : null;
  } catch {
    return null;
  }
}
