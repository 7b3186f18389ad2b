<#-- Keycloak's base html/identity-provider-link.ftl with the lifespan written by
     expiration.ftl ("24 hours", where Keycloak would say "1 day"). -->
<#import "template.ftl" as layout>
<#import "../expiration.ftl" as expiration>
<@layout.emailLayout>
${kcSanitize(msg("identityProviderLinkBodyHtml", identityProviderDisplayName, realmName, identityProviderContext.username, link, linkExpiration, expiration.words(linkExpiration)))?no_esc}
</@layout.emailLayout>
