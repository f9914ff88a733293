using System.Net.Http.Headers;
using System.Text.Json;

namespace OAuthSidecar.Core.OAuth.Providers;

/// <summary>
/// A provider's "who am I" endpoint, for providers that issue no id_token to OAuth apps (GitHub <c>GET /user</c> →
/// <c>login</c>; GitLab <c>GET /api/v4/user</c> → <c>username</c>): called once with a new access token to name the
/// account that <c>listAccounts</c> shows.
/// </summary>
/// <param name="Url">The endpoint.</param>
/// <param name="NameProperty">The member of its JSON answer that names the account.</param>
/// <param name="Accept">The media type to ask for (GitHub recommends <c>application/vnd.github+json</c>).</param>
public sealed record AccountEndpoint(string Url, string NameProperty, string Accept = "application/json")
{
    /// <summary>Asks the endpoint who owns <paramref name="accessToken"/>.</summary>
    /// <param name="http">The client's HTTP client.</param>
    /// <param name="accessToken">The access token (sent as a Bearer token, RFC 6750 §2.1).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The account name, or <see langword="null"/> when the endpoint did not say (the sign-in still succeeds).</returns>
    public async Task<string?> GetNameAsync(HttpClient http, string accessToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(HttpMethod.Get, this.Url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.ParseAdd(this.Accept);
        request.Headers.UserAgent.ParseAdd("oauth-sidecar"); // GitHub's REST API refuses requests without a User-Agent
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using JsonDocument document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(this.NameProperty, out JsonElement name)
                && name.ValueKind is JsonValueKind.String or JsonValueKind.Number
                ? name.ToString()
                : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
