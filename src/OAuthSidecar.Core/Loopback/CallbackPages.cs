using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// The pages the loopback server shows in the browser: success, error, and the fragment bridge. Custom pages come
/// from files or strings (flytekit <c>EndpointMetadata</c>, callback.py <c>--success-html</c>); a file that cannot be
/// read is logged and replaced by a readable fallback, never fatal.
/// </summary>
public sealed class CallbackPages
{
    /// <summary>The success fallback text (callback.py's).</summary>
    public const string SuccessFallbackText = "Credentials received successfully. You may close this window.";

    /// <summary>The error fallback text (callback.py's).</summary>
    public const string ErrorFallbackText = "Authentication could not be completed. Close this window and try again.";

    /// <summary>Gets the default pages.</summary>
    public static CallbackPages Default { get; } = new(null, null);

    /// <summary>Initializes a new instance of the <see cref="CallbackPages"/> class.</summary>
    /// <param name="successHtml">A whole HTML document for success, or <see langword="null"/> for the fallback.</param>
    /// <param name="errorHtml">A whole HTML document for errors, or <see langword="null"/> for the fallback. The error is shown below it, HTML-encoded.</param>
    public CallbackPages(string? successHtml, string? errorHtml)
    {
        this.SuccessHtml = successHtml;
        this.ErrorHtml = errorHtml;
    }

    /// <summary>Gets the custom success page, if any.</summary>
    public string? SuccessHtml { get; }

    /// <summary>Gets the custom error page, if any.</summary>
    public string? ErrorHtml { get; }

    /// <summary>
    /// Builds pages from files and strings. A string wins over a file; a file that is missing or unreadable is
    /// logged as an error and the fallback is used.
    /// </summary>
    /// <param name="successHtmlPath">Path of the success page file.</param>
    /// <param name="errorHtmlPath">Path of the error page file.</param>
    /// <param name="successHtml">Success page HTML.</param>
    /// <param name="errorHtml">Error page HTML.</param>
    /// <param name="logger">Where to report unreadable files.</param>
    /// <returns>The pages.</returns>
    public static CallbackPages Load(string? successHtmlPath, string? errorHtmlPath, string? successHtml, string? errorHtml, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (successHtmlPath is null && errorHtmlPath is null && successHtml is null && errorHtml is null)
        {
            return Default;
        }

        return new CallbackPages(successHtml ?? ReadOrNull(successHtmlPath, "success", logger), errorHtml ?? ReadOrNull(errorHtmlPath, "error", logger));
    }

    /// <summary>Renders the success page.</summary>
    /// <returns>HTML.</returns>
    public string RenderSuccess() => this.SuccessHtml ?? Document("Signed in", "&#10004; Signed in", Encode(SuccessFallbackText));

    /// <summary>Renders the error page; <paramref name="error"/> and <paramref name="description"/> are HTML-encoded.</summary>
    /// <param name="error">The error code, e.g. <c>access_denied</c>.</param>
    /// <param name="description">A description.</param>
    /// <returns>HTML.</returns>
    public string RenderError(string error, string? description)
    {
        string detail = $"<p><code>{Encode(error)}</code>{(description is { Length: > 0 } ? " &mdash; " + Encode(description) : string.Empty)}</p>";
        if (this.ErrorHtml is { } custom)
        {
            int body = custom.LastIndexOf("</body>", StringComparison.OrdinalIgnoreCase);
            return body >= 0 ? custom.Insert(body, detail) : custom + detail;
        }

        return Document("Sign-in failed", "Sign-in failed", Encode(ErrorFallbackText) + detail);
    }

    /// <summary>
    /// Renders the fragment bridge (callback.py, GCM): a page whose script re-posts the URL's <c>#fragment</c>
    /// values as JSON <c>{ "fragment_params": {…} }</c> to the same path and shows the answer.
    /// </summary>
    /// <returns>HTML.</returns>
    public static string RenderBridge() => Document(
        "Completing sign-in",
        "Completing sign-in&hellip;",
        """
        <p id="status">Reading the sign-in response&hellip;</p>
        <script>
        (function () {
          var status = document.getElementById('status');
          var hash = window.location.hash ? window.location.hash.substring(1) : '';
          if (!hash) { status.textContent = 'No sign-in response was found in this address. Close this window and try again.'; return; }
          var params = {};
          new URLSearchParams(hash).forEach(function (v, k) { params[k] = v; });
          fetch(window.location.pathname + window.location.search, {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ fragment_params: params }), credentials: 'omit'
          }).then(function (r) { return r.text(); })
            .then(function (html) { history.replaceState(null, '', window.location.pathname); document.open(); document.write(html); document.close(); })
            .catch(function () { status.textContent = 'The sign-in response could not be delivered. Close this window and try again.'; });
        })();
        </script>
        """);

    /// <summary>Renders a plain page with a title and an HTML-encoded message.</summary>
    /// <param name="title">The title (plain text).</param>
    /// <param name="message">The message (plain text).</param>
    /// <returns>HTML.</returns>
    public static string RenderMessage(string title, string message) => Document(Encode(title), Encode(title), Encode(message));

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Document(string title, string heading, string bodyHtml)
    {
        var sb = new StringBuilder(1024);
        sb.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
        sb.Append("<title>").Append(title).Append("</title>");
        sb.Append("<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}h1{font-weight:500}code{background:#f3f3f3;padding:.1em .3em}</style>");
        sb.Append("</head><body><h1>").Append(heading).Append("</h1><p>").Append(bodyHtml).Append("</p></body></html>");
        return sb.ToString();
    }

    private static string? ReadOrNull(string? path, string which, ILogger logger)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            logger.LogError("The {Which} page {Path} could not be read ({Reason}); the built-in page is used instead.", which, path, ex.Message);
            return null;
        }
    }
}
