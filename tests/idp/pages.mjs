// Plain HTML pages for the device flow and errors (oidc-provider's defaults pull in web fonts
// and print a notice). The headless user (headless-user.mjs) reads the forms and `.error` texts.

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><h1>${escape(title)}</h1>
${body}
</body></html>`;

export const deviceFlowPages = {
  // `form` is oidc-provider's form with id="op.deviceInputForm" (fields xsrf and user_code).
  async userCodeInputSource(ctx, form, out, err) {
    const message = err ? `<p class="error">${escape(out?.error ?? err.message)}</p>`
      : '<p>Enter the code displayed on your device</p>';
    const button = '<button type="submit" form="op.deviceInputForm">Continue</button>';
    ctx.body = page('Device sign-in', `${message}\n${form}\n${button}`);
  },

  // `form` has id="op.deviceConfirmForm" (fields xsrf, user_code, confirm=yes).
  async userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
    ctx.body = page('Confirm device', `<p>${escape(client.clientName ?? client.clientId)} shows the code
<code>${escape(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
  },

  async successSource(ctx) {
    ctx.body = page('Sign-in success', '<p class="success">You can close this page and return to your device.</p>');
  },
};

export async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', `<p class="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
}
