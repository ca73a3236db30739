/**
 * Settle within `ms`, or fail the test: nothing may hang. Resolves with the outcome of `p`
 * (value or error) so a test can assert on either; throws only when `p` did not settle.
 */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Error(`${what} did not settle within ${ms} ms`);
  try {
    return { ok: true, value: await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(hung), ms)))]) };
  } catch (error) {
    if (error === hung) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}
