import * as pulumi from "@pulumi/pulumi";
import * as backline from "@pulumi/backline";

const config = new pulumi.Config();

// The inputs are the stack config of backline-access, as plain values: they decide which grants exist, so they
// must be known at preview (a literal or a config value, not another resource's output).
const access = new backline.BacklineAccess("backline", {
    tenantId: config.require("tenantId"),
    subscriptions: [
        "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
        "1c2e8f4d-7a1b-4c9e-9d3f-2b8a6e5c4d10",
    ],
    aks: [
        {
            subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
            clusters: [{ resourceGroup: "rg-prod", name: "aks-prod" }],
        },
        {
            subscription: "1c2e8f4d-7a1b-4c9e-9d3f-2b8a6e5c4d10",
            all: true,
            grantAt: backline.AksGrantAt.SUBSCRIPTION,
        },
    ],
    servicePrincipal: { mode: backline.ServicePrincipalMode.ENSURE },
});

// Export at least one output: on a DIY backend it is how the component tells a deployed stack from a new one.
export const backlineTenantId = access.tenantId;
export const subscriptionIds = access.subscriptionIds;
export const adminConsentUrl = access.adminConsentUrl;
export const verificationCommands = access.verificationCommands;
