<#-- The frame of every HTML mail: Keycloak's base html/template.ftl plus a MikroCloud
     header and footer, styled inline (mail clients ignore style sheets). -->
<#macro emailLayout>
<html lang="${locale.language}" dir="${(ltr)?then('ltr','rtl')}">
<body style="margin:0;padding:24px;background:#f4f6fa;font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2937;">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px 32px;overflow-wrap:anywhere;word-break:break-word;">
<p style="margin:0 0 16px;font-size:22px;font-weight:bold;color:#0b5cad;">MikroCloud</p>
<#nested>
<p style="margin:24px 0 0;font-size:12px;color:#6b7280;">${msg("mikrocloudEmailFooter")}</p>
</div>
</body>
</html>
</#macro>
