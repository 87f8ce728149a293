import { describe, expect, it } from "vitest";
import { parseBridgeCommand } from "../../src/bridge";
import { asVisitorId, readCookie } from "../../src/site-rules";

describe("page bridge commands", () => {
  it("accepts initVisitor with a visitor ID, token, name and e-mail", () => {
    expect(parseBridgeCommand({ glimpse: 1, type: "initVisitor", visitorId: "cust-42", token: "a.b.c", name: "Vera", email: "v@x.io" })).toEqual({
      ok: true,
      command: { type: "initVisitor", visitorId: "cust-42", token: "a.b.c", name: "Vera", email: "v@x.io", ui: "default" },
    });
  });

  it("lets a site switch the default UI off", () => {
    const parsed = parseBridgeCommand({ type: "initVisitor", visitorId: "cust-42", ui: "none" });
    expect(parsed.ok && parsed.command.type === "initVisitor" && parsed.command.ui).toBe("none");
  });

  it.each([
    ["a missing visitor ID", { type: "initVisitor" }, "visitorId"],
    ["a visitor ID with spaces", { type: "initVisitor", visitorId: "a b" }, "visitorId"],
    ["an over-long visitor ID", { type: "initVisitor", visitorId: "x".repeat(129) }, "visitorId"],
    ["a token that is not a string", { type: "initVisitor", visitorId: "a", token: 5 }, "token"],
    ["an unknown ui mode", { type: "initVisitor", visitorId: "a", ui: "fancy" }, "ui"],
    ["an unknown command", { type: "startSession" }, "type"],
  ])("refuses %s and says which field", (_name, data, field) => {
    const parsed = parseBridgeCommand(data);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(field);
  });

  it("offers no command that starts a session or accepts terms", () => {
    for (const type of ["startSession", "acceptTerms", "share", "accept"]) expect(parseBridgeCommand({ type }).ok).toBe(false);
  });
});

describe("site rules", () => {
  it("read a visitor ID from a cookie", () => {
    expect(readCookie("a=1; account_id=cust%2D42; b=2", "account_id")).toBe("cust-42");
    expect(readCookie("a=1", "account_id")).toBeNull();
    expect(readCookie("account_id=", "account_id")).toBeNull();
  });

  it("take only values that are visitor IDs", () => {
    expect(asVisitorId("  cust-42 \n")).toBe("cust-42");
    expect(asVisitorId("Welcome back, Vera!")).toBeNull();
    expect(asVisitorId("")).toBeNull();
    expect(asVisitorId(null)).toBeNull();
  });
});
