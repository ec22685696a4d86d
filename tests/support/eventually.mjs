// The Node tests' one wait: polls `check` every 100 ms until it returns something truthy, which
// it returns; fails naming `what` after `ms`. The deadline is on the monotonic clock, so a step of
// the machine's wall clock (a fresh CI machine's clock being set) is no timeout.
import assert from "node:assert/strict";

export async function eventually(what, check, ms = 20000) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}
