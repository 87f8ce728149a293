import { describe, expect, it } from "vitest";
import { refusal } from "../../server/sso";

describe("who company sign-in lets into a team", () => {
  const domains = { allowedDomains: ["acme.example"], requiredClaim: "" };

  it("lets in a verified e-mail address of an allowed domain, in any letter case", () => {
    expect(refusal(domains, { email: "Ann@ACME.example", email_verified: true })).toBeNull();
    expect(refusal(domains, { email: "ann@acme.example" })).toBeNull(); // a provider that does not say is trusted on the domain
  });

  it("refuses another domain, a look-alike, an unverified address and no address", () => {
    expect(refusal(domains, { email: "eve@elsewhere.example", email_verified: true })).toMatch(/elsewhere\.example is not allowed/);
    expect(refusal(domains, { email: "eve@acme.example.evil.test", email_verified: true })).toMatch(/not allowed/);
    expect(refusal(domains, { email: "eve@sub.acme.example", email_verified: true })).toMatch(/not allowed/);
    expect(refusal(domains, { email: "ann@acme.example", email_verified: false })).toBe("no verified e-mail address");
    expect(refusal(domains, { sub: "123" })).toBe("no verified e-mail address");
  });

  it("requires a claim value, in an array claim or a string one, when set", () => {
    const claim = { allowedDomains: [], requiredClaim: "groups=support" };
    expect(refusal(claim, { groups: ["sales", "support"] })).toBeNull();
    expect(refusal(claim, { groups: "support" })).toBeNull();
    expect(refusal(claim, { groups: ["sales"] })).toBe("claim groups=support is missing");
    expect(refusal(claim, {})).toBe("claim groups=support is missing");
    expect(refusal({ allowedDomains: [], requiredClaim: "support_agent" }, { support_agent: true })).toBeNull();
    expect(refusal({ allowedDomains: [], requiredClaim: "support_agent" }, { support_agent: false })).toMatch(/missing/);
  });

  it("lets in anyone the provider signs in when neither is set (the provider is the gate)", () => {
    expect(refusal({ allowedDomains: [], requiredClaim: "" }, { sub: "x" })).toBeNull();
  });
});
