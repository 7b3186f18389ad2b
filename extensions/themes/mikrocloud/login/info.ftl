<#-- Keycloak's base info.ftl (26.7.3), changed in one place. A provider's first sign-in
     mails its confirmation link (mikrocloud first broker login); opened in another
     browser than the one that signed in through the provider, Keycloak shows this page
     with a link that would confirm it from there. That link is left out: the one who
     finishes the sign-in must be the one who started it, so an address's owner who
     opens an unexpected mail links nobody's provider account to it. Keycloak names that
     page's header by its text rather than by a message key (every other page that
     sets messageHeader gives a key, which has no spaces); that is how it is told. -->
<#import "template.ftl" as layout>
<#assign providerConfirmation = (messageHeader?? && messageHeader?contains(" ") && actionUri?has_content)>
<@layout.registrationLayout displayMessage=false; section>
    <#if section = "header">
        <#if messageHeader??>
            ${kcSanitize(msg("${messageHeader}"))?no_esc}
        <#else>
            ${message.summary}
        </#if>
    <#elseif section = "form">
    <div id="kc-info-message">
        <p class="instruction">${message.summary}<#if requiredActions??><#list requiredActions>: <b><#items as reqActionItem>${kcSanitize(msg("requiredAction.${reqActionItem}"))?no_esc}<#sep>, </#items></b></#list><#else></#if></p>
        <#if providerConfirmation>
            <p id="mc-provider-confirmation-elsewhere" class="instruction">${msg("mikrocloudProviderConfirmationElsewhere")}</p>
        <#elseif skipLink??>
        <#else>
            <#if pageRedirectUri?has_content>
                <p><a href="${pageRedirectUri}">${msg("backToApplication")}</a></p>
            <#elseif actionUri?has_content>
                <p><a href="${actionUri}">${msg("proceedWithAction")}</a></p>
            <#elseif (client.baseUrl)?has_content>
                <p><a href="${client.baseUrl}">${msg("backToApplication")}</a></p>
            </#if>
        </#if>
    </div>
    </#if>
</@layout.registrationLayout>
