import { describe, expect, it } from "vitest";
import { INVITE_TTL_MS, Invites, MAX_OPEN_INVITES } from "../../server/invites";
import type { LiveSession } from "../../server/sessions";

const session = (key: string, groupId = "demo") => ({ key, groupId, keyType: "random" }) as LiveSession;

describe("invitations", () => {
  it("open their session once, within their lifetime, in their group only", () => {
    let now = 1_000;
    const invites = new Invites(() => now);
    const s = session("123456");
    const first = invites.create(s, "alice")!;
    expect(first.expiresAt).toBe(1_000 + INVITE_TTL_MS);
    expect(invites.redeem("other", first.token)).toBeNull();
    expect(invites.redeem("demo", first.token)).toEqual({ session: s, by: "alice" });
    expect(invites.redeem("demo", first.token)).toBeNull();

    const second = invites.create(s, "alice")!;
    now += INVITE_TTL_MS;
    expect(invites.redeem("demo", second.token)).toBeNull();
  });

  it("cap the open invitations of one session, and forget expired ones", () => {
    let now = 0;
    const invites = new Invites(() => now);
    const s = session("123456");
    for (let i = 0; i < MAX_OPEN_INVITES; i++) expect(invites.create(s, "alice")).not.toBeNull();
    expect(invites.create(s, "alice")).toBeNull();
    expect(invites.create(session("654321"), "bob")).not.toBeNull(); // another session has its own
    now += INVITE_TTL_MS;
    expect(invites.create(s, "alice")).not.toBeNull();
    expect(invites.size).toBe(1);
  });
});
