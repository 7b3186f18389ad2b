<#-- A link's lifespan in words. `minutes` is Keycloak's linkExpiration (in minutes).
     Keycloak's linkExpirationFormatter picks the largest whole unit, so 1440 minutes read
     "1 day"; MikroCloud says "24 hours", so whole hours up to 48 are written in hours and
     anything else is left to Keycloak's formatter. -->
<#function words minutes>
    <#if minutes gt 0 && minutes % 60 == 0 && minutes <= 48 * 60>
        <#return msg("mikrocloudLinkExpirationHours", minutes / 60)>
    </#if>
    <#return linkExpirationFormatter(minutes)>
</#function>
