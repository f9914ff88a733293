using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace OAuthSidecar.Core.Loopback;

/// <summary>
/// The loopback listener's replies: an HTML page for browsers, or JSON (callback.py) when the request asks for it
/// with <c>?format=json</c> or <c>Accept: application/json</c>.
/// </summary>
internal static class CallbackReply
{
    /// <summary>Gets a value indicating whether the request asks for a JSON reply.</summary>
    /// <param name="request">The request.</param>
    /// <returns><see langword="true"/> for JSON.</returns>
    public static bool WantsJson(HttpRequest request) =>
        (request.Query.TryGetValue("format", out StringValues format) && string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        || request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes a reply.</summary>
    /// <param name="context">The request's context.</param>
    /// <param name="status">The HTTP status code.</param>
    /// <param name="json">Whether to reply in JSON.</param>
    /// <param name="html">The page for a browser.</param>
    /// <param name="body">The JSON reply's content: a <see cref="CallbackResult"/> (<c>ok: true</c>), a <see cref="Problem"/> (<c>ok: false</c>), or <see langword="null"/> (<c>{}</c>).</param>
    /// <returns>A task that completes when the reply is written.</returns>
    public static async Task WriteAsync(HttpContext context, int status, bool json, string html, object? body)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        if (json)
        {
            response.ContentType = "application/json; charset=utf-8";
            await response.WriteAsync(BuildJson(body), context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            response.ContentType = "text/html; charset=utf-8";
            await response.WriteAsync(html, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static string BuildJson(object? body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            switch (body)
            {
                case CallbackResult r:
                    writer.WriteBoolean("ok", true);
                    writer.WriteString("method", r.Method);
                    writer.WriteString("path", r.Path);
                    writer.WriteNumber("received_at", r.ReceivedAt);
                    if (r.Params.TryGetValue("error", out string? e))
                    {
                        writer.WriteString("error", e);
                    }

                    break;
                case Problem p:
                    writer.WriteBoolean("ok", false);
                    writer.WriteString("error", p.Error);
                    writer.WriteString("error_description", p.Description);
                    break;
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A refused request, in a JSON reply: <c>{ "ok": false, "error": …, "error_description": … }</c>.</summary>
    /// <param name="Error">A code such as <c>state_mismatch</c> or <c>invalid_request</c>.</param>
    /// <param name="Description">A sentence.</param>
    public sealed record Problem(string Error, string Description);
}
