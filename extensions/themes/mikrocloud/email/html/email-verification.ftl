<#-- Keycloak's base html/email-verification.ftl with the lifespan written by
     expiration.ftl ("24 hours" for the realm's 86400 s, where Keycloak would say "1 day"). -->
<#import "template.ftl" as layout>
<#import "../expiration.ftl" as expiration>
<@layout.emailLayout>
${kcSanitize(msg("emailVerificationBodyHtml", link, linkExpiration, realmName, expiration.words(linkExpiration)))?no_esc}
</@layout.emailLayout>
