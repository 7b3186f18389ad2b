<#-- Keycloak's base login-idp-link-email.ftl (26.7.3), shown while a provider's first
     sign-in waits for the address's owner to follow the mailed link (realm-config:
     mikrocloud first broker login). Laid out as login-verify-email.ftl is, since for
     the user it is the same step: the resend link reads "Resend Verification Email".
     Both links go to Keycloak's own url.loginAction: it sends the mail again, or goes
     on once the link was followed. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayInfo=true; section>
    <#if section = "header">
        ${msg("emailLinkIdpTitle", idpDisplayName)}
    <#elseif section = "form">
        <p id="instruction1" class="instruction">
            ${msg("emailLinkIdp1", idpDisplayName, brokerContext.username, realm.displayName, brokerContext.email)}
        </p>
    <#elseif section = "info">
        <p class="instruction">
            ${msg("emailVerifyInstruction2")}
            <a id="mc-resend-verification-email" href="${url.loginAction}">${msg("emailVerifyResendLink")}</a>
        </p>
    </#if>
</@layout.registrationLayout>
