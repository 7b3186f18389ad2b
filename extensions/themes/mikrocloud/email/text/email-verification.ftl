<#ftl output_format="plainText">
<#-- Keycloak's base text/email-verification.ftl with the lifespan written by
     expiration.ftl ("24 hours" for the realm's 86400 s, where Keycloak would say "1 day"). -->
<#import "../expiration.ftl" as expiration>
${msg("emailVerificationBody", link, linkExpiration, realmName, expiration.words(linkExpiration))}
