<#-- Keycloak's base info.ftl (26.7.3), changed in one place. A provider's first sign-in
     mails its confirmation link (mikrocloud first broker login); opened in another
     browser than the one that signed in through the provider, Keycloak shows this page
     with a link that would confirm it from there. That link is left out: the one who
     finishes the sign-in must be the one who started it, so an address's owner who
     opens an unexpected mail links nobody's provider account to it. That page is told
     by its message, confirmAccountLinkingBody, whose MikroCloud text begins with
     mikrocloudProviderConfirmationStart (messages_*.properties): every other page with
     a way on (the verify-email link opened on a phone, say) keeps it. -->
<#import "template.ftl" as layout>
<#assign providerConfirmation = (actionUri?has_content && message?? && message.summary?starts_with(msg("mikrocloudProviderConfirmationStart")))>
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
