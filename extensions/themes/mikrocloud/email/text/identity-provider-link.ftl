<#ftl output_format="plainText">
<#-- Keycloak's base text/identity-provider-link.ftl with the lifespan written by
     expiration.ftl ("24 hours", where Keycloak would say "1 day"). Sent when a provider's
     first sign-in asks the address's owner to confirm it (mikrocloud first broker login). -->
<#import "../expiration.ftl" as expiration>
${msg("identityProviderLinkBody", identityProviderDisplayName, realmName, identityProviderContext.username, link, linkExpiration, expiration.words(linkExpiration))}
